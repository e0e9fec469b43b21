using System.Text.Json;

namespace SLoRA.Parity;

/// <summary>The Hugging Face / PEFT fixtures written by tools/make_fixtures.py.</summary>
public static class Fixtures
{
    /// <summary>The fixtures folder: SLORA_FIXTURES, else the copy beside the binaries.</summary>
    public static string Root => Environment.GetEnvironmentVariable("SLORA_FIXTURES") is { Length: > 0 } root ? root : Path.Combine(AppContext.BaseDirectory, "fixtures");

    public static string Model(string name) => Path.Combine(Root, "models", name);

    public static string Adapter(string model, string name) => Path.Combine(Root, "adapters", model, name);

    public static Reference LoadReference(string model)
    {
        var json = File.ReadAllText(Path.Combine(Root, "reference", model + ".json"));
        return JsonSerializer.Deserialize<Reference>(json, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
    }
}

public sealed record Reference(int NewTokens, ReferenceRow[] Base, double? HfFp16MaxAbsLogitGap, Dictionary<string, AdapterReference> Adapters);

public sealed record AdapterReference(ReferenceRow[] Rows, int PromptsChangedVsBase, double? HfFp16MaxAbsLogitGap);

public sealed record ReferenceRow(int[] Prompt, int[] Greedy, double MinMargin, int[] LogitPositions, float[][] Logits);
