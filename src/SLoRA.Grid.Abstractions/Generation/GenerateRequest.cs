namespace SLoRA.Grid.Generation;

/// <summary>A generation request for one adapter: a prompt as text or token ids, and how to sample.</summary>
[GenerateSerializer, Immutable, Alias("slora.GenerateRequest")]
public sealed record GenerateRequest
{
    /// <summary>Prompt text, tokenized on the silo by the base model's tokenizer.</summary>
    [Id(0)] public string? Prompt { get; init; }

    /// <summary>Prompt token ids, used as given; takes precedence over <see cref="Prompt"/>.</summary>
    [Id(1)] public IReadOnlyList<int>? PromptTokens { get; init; }

    /// <summary>Sampling and stop parameters.</summary>
    [Id(2)] public SamplingOptions Sampling { get; init; } = new();

    /// <summary>The first token must come within this time, or the request is dropped early.</summary>
    [Id(3)] public TimeSpan? FirstTokenDeadline { get; init; }

    /// <summary>A text request.</summary>
    public static GenerateRequest ForText(string prompt, SamplingOptions? sampling = null) =>
        new() { Prompt = prompt, Sampling = sampling ?? new() };

    /// <summary>A token-id request.</summary>
    public static GenerateRequest ForTokens(IReadOnlyList<int> tokens, SamplingOptions? sampling = null) =>
        new() { PromptTokens = tokens, Sampling = sampling ?? new() };
}
