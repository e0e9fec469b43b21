using SLoRA.Engine.Generation;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Serving;

namespace SLoRA.Parity;

/// <summary>Result of comparing greedy continuations with the reference.</summary>
/// <param name="Model">Fixture model.</param>
/// <param name="Prompts">Prompts compared.</param>
/// <param name="Mismatches">Prompts whose continuation differs in any token.</param>
/// <param name="FirstMismatch">A description of the first difference, if any.</param>
public sealed record GreedyParityResult(string Model, int Prompts, int Mismatches, string? FirstMismatch)
{
    public bool Passed => Mismatches == 0;
}

/// <summary>
/// Submits every reference prompt to the engine at once (so they share batches: prefills and
/// decodes of different lengths together) and compares the greedy tokens with Hugging Face's.
/// </summary>
public static class GreedyParity
{
    public static async Task<GreedyParityResult> RunAsync(string model, AcceleratorPreference accelerator)
    {
        var reference = Fixtures.LoadReference(model);
        var options = new EngineOptions
        {
            Accelerator = accelerator,
            Runner = new() { MaxBatchTokens = 256, MaxLogitRows = 32, NumPages = 1024 },
        };
        await using var engine = await LlmEngine.StartAsync(ModelSource.Folder(Fixtures.Model(model)), options);
        var sampling = SamplingParams.Greedy(reference.NewTokens) with { IgnoreEos = true };
        var runs = reference.Base.Select(row => Collect(engine.Generate(new GenerationRequest { PromptTokens = row.Prompt, Sampling = sampling }))).ToArray();
        var outputs = await Task.WhenAll(runs);
        int mismatches = 0;
        string? first = null;
        for (int i = 0; i < outputs.Length; i++)
        {
            var expected = reference.Base[i].Greedy;
            if (!outputs[i].SequenceEqual(expected))
            {
                mismatches++;
                first ??= $"prompt {i}: expected [{string.Join(",", expected)}], got [{string.Join(",", outputs[i])}]";
            }
        }
        return new GreedyParityResult(model, outputs.Length, mismatches, first);
    }

    private static async Task<int[]> Collect(IAsyncEnumerable<TokenChunk> stream)
    {
        var tokens = new List<int>();
        await foreach (var chunk in stream)
        {
            if (chunk.TokenId >= 0)
                tokens.Add(chunk.TokenId);
        }
        return [.. tokens];
    }
}
