namespace SLoRA.Grid.Generation;

/// <summary>How a request picks its tokens and when it stops (checked by the engine on the silo).</summary>
[GenerateSerializer, Immutable, Alias("slora.SamplingOptions")]
public sealed record SamplingOptions
{
    /// <summary>0 is greedy; above 0 samples from softmax(logits / T).</summary>
    [Id(0)] public float Temperature { get; init; }

    /// <summary>Sample among the K most likely tokens only; 0 means no limit.</summary>
    [Id(1)] public int TopK { get; init; }

    /// <summary>Nucleus sampling mass; 1 means no limit.</summary>
    [Id(2)] public float TopP { get; init; } = 1f;

    /// <summary>Seed of the request's random stream; null draws one.</summary>
    [Id(3)] public ulong? Seed { get; init; }

    /// <summary>Most tokens to generate.</summary>
    [Id(4)] public int MaxNewTokens { get; init; } = 64;

    /// <summary>Token ids that end the request, besides the model's EOS.</summary>
    [Id(5)] public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Strings that end the request; the text stops before them.</summary>
    [Id(6)] public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Keep generating through end-of-sequence tokens (benchmarks).</summary>
    [Id(7)] public bool IgnoreEos { get; init; }

    /// <summary>Report the log-probability of each generated token.</summary>
    [Id(8)] public bool Logprobs { get; init; }

    /// <summary>Greedy decoding with a limit of <paramref name="maxNewTokens"/>.</summary>
    public static SamplingOptions Greedy(int maxNewTokens = 64) => new() { MaxNewTokens = maxNewTokens };
}
