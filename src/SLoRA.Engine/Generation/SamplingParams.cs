namespace SLoRA.Engine.Generation;

/// <summary>How a request picks its tokens and when it stops.</summary>
public sealed record SamplingParams
{
    /// <summary>0 picks the most likely token (greedy); above 0 samples from softmax(logits / T).</summary>
    public float Temperature { get; init; }

    /// <summary>Sample among the K most likely tokens only; 0 means no limit.</summary>
    public int TopK { get; init; }

    /// <summary>Sample among the most likely tokens whose probabilities add up to P; 1 means no limit.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Seed of the request's random stream: the same seed gives the same tokens. Null draws one.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Most tokens to generate.</summary>
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>Token ids that end the request (in addition to the model's EOS unless <see cref="IgnoreEos"/>).</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Strings that end the request; the text stops before them.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Keep generating through end-of-sequence tokens (benchmarks).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Report the log-probability of each generated token.</summary>
    public bool Logprobs { get; init; }

    /// <summary>Greedy decoding with a limit of <paramref name="maxNewTokens"/>.</summary>
    public static SamplingParams Greedy(int maxNewTokens = 64) => new() { MaxNewTokens = maxNewTokens };

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the parameter when a value is out of range.
    /// <paramref name="maxNewTokensLimit"/> is the most any request may ask for (the context).
    /// </summary>
    public void Validate(int maxNewTokensLimit)
    {
        if (!float.IsFinite(Temperature) || Temperature < 0)
            throw new ArgumentException($"temperature must be a finite number >= 0, got {Temperature}.", "temperature");
        if (TopK < 0)
            throw new ArgumentException($"top_k must be >= 0 (0 disables it), got {TopK}.", "top_k");
        if (!(TopP > 0 && TopP <= 1))
            throw new ArgumentException($"top_p must be in (0, 1], got {TopP}.", "top_p");
        if (MaxNewTokens < 1)
            throw new ArgumentException($"max_new_tokens must be at least 1, got {MaxNewTokens}.", "max_new_tokens");
        if (MaxNewTokens > maxNewTokensLimit)
            throw new ArgumentException($"max_new_tokens {MaxNewTokens} exceeds the context: at most {maxNewTokensLimit} tokens fit after this prompt.", "max_new_tokens");
        if (StopStrings.Any(string.IsNullOrEmpty))
            throw new ArgumentException("stop strings must not be empty.", "stop");
    }
}
