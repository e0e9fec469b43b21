using SLoRA.Engine.Generation;

namespace SLoRA.Engine.Serving;

/// <summary>A request to generate: a prompt as text or as token ids, and how to sample.</summary>
public sealed record GenerationRequest
{
    /// <summary>Prompt text, tokenized by the model's tokenizer (with BOS when the model has one).</summary>
    public string? Prompt { get; init; }

    /// <summary>Prompt token ids, used as given; takes precedence over <see cref="Prompt"/>.</summary>
    public IReadOnlyList<int>? PromptTokens { get; init; }

    /// <summary>The registered adapter to run with; null runs the base model.</summary>
    public string? AdapterId { get; init; }

    /// <summary>
    /// The first token must come within this time of submission; a waiting request that can no
    /// longer make it is dropped early with <see cref="Generation.FinishReason.DeadlineExceeded"/>.
    /// </summary>
    public TimeSpan? FirstTokenDeadline { get; init; }

    /// <summary>Sampling and stop parameters.</summary>
    public SamplingParams Sampling { get; init; } = new();
}
