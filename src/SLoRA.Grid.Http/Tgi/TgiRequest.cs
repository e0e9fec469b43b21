using System.Text.Json;
using SLoRA.Grid.Generation;
using SLoRA.Grid.Http.Errors;
using SLoRA.Grid.Http.Generation;
using SLoRA.Grid.Http.Json;
using SLoRA.Grid.Http.OpenAi;

namespace SLoRA.Grid.Http.Tgi;

/// <summary>
/// A parsed S-LoRA /generate or /generate_stream request (TGI's shape with S-LoRA's "lora_dir"):
/// <c>{"inputs": "...", "lora_dir": "adapter-id", "parameters": {...}}</c>. "lora_dir" is the
/// adapter id (TGI's "parameters.adapter_id" is taken too); without either the base model
/// answers. "inputs" may also be a list of token ids (an extension the load tester uses for exact
/// prompt lengths). Parameters: do_sample (false: greedy whatever the temperature), temperature,
/// top_p, top_k (-1 or 0: off), max_new_tokens (default 16, as S-LoRA), ignore_eos,
/// stop_sequences (or "stop"), seed, details.
/// </summary>
/// <param name="Target">The base model or an adapter.</param>
/// <param name="Request">What the grid runs.</param>
/// <param name="Details">Whether /generate adds a details object.</param>
public sealed record TgiRequest(ModelTarget Target, GenerateRequest Request, bool Details)
{
    /// <summary>max_new_tokens when none is given (S-LoRA's default).</summary>
    public const int DefaultMaxNewTokens = 16;

    /// <summary>Most stop sequences.</summary>
    public const int MaxStops = 8;

    /// <summary>The grid's field names as this API calls them.</summary>
    public static IReadOnlyDictionary<string, string> Params { get; } = new Dictionary<string, string>
    {
        ["max_new_tokens"] = "parameters.max_new_tokens",
        ["temperature"] = "parameters.temperature",
        ["top_p"] = "parameters.top_p",
        ["top_k"] = "parameters.top_k",
        ["stop"] = "parameters.stop_sequences",
        ["prompt"] = "inputs",
        ["model"] = "lora_dir",
    };

    private static readonly JsonElement NoParameters = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>Parses a request body.</summary>
    public static TgiRequest Parse(JsonElement body, ModelResolver models)
    {
        var f = new JsonFields(body);
        var p = f.Object("parameters") ?? new JsonFields(NoParameters, "parameters.");
        string? adapter = f.String("lora_dir") ?? p.String("adapter_id");
        var target = adapter is null ? new ModelTarget(models.BaseModelName, null) : models.Resolve(adapter, f.Get("lora_dir") is null ? "parameters.adapter_id" : "lora_dir");

        bool sample = p.Bool("do_sample") ?? false;
        double? temperature = p.Number("temperature", 0, 100);
        double? topP = p.Number("top_p", 0, 1, exclusiveMin: true);
        int? topK = p.Int("top_k", -1, int.MaxValue);
        long? seed = p.Integer("seed");
        var stops = p.StringOrStrings("stop_sequences", MaxStops) ?? p.StringOrStrings("stop", MaxStops) ?? [];
        var sampling = new SamplingOptions
        {
            MaxNewTokens = p.Int("max_new_tokens", 1, int.MaxValue) ?? DefaultMaxNewTokens,
            Temperature = sample ? (float)(temperature ?? 1) : 0,
            TopP = sample ? (float)(topP ?? 1) : 1,
            TopK = sample ? Math.Max(0, topK ?? 0) : 0,
            Seed = seed is { } s ? unchecked((ulong)s) : null,
            IgnoreEos = p.Bool("ignore_eos") ?? false,
            StopStrings = stops,
            Logprobs = true,
        };
        bool details = p.Bool("details") ?? p.Bool("return_details") ?? false;
        return new TgiRequest(target, Inputs(f) with { Sampling = sampling }, details);
    }

    private static GenerateRequest Inputs(JsonFields f)
    {
        var value = f.Get("inputs") ?? throw f.Missing("inputs");
        return value.ValueKind switch
        {
            JsonValueKind.String => GenerateRequest.ForText(value.GetString()!),
            JsonValueKind.Array when value.GetArrayLength() > 0 => GenerateRequest.ForTokens(OpenAiRequest.TokenIds(value, "inputs")),
            JsonValueKind.Array => throw ApiException.BadRequest("'inputs' must not be empty.", "inputs"),
            _ => throw f.WrongType("inputs", "a string (or a list of token ids)", value),
        };
    }
}
