using SLoRA.Engine.Generation;

namespace SLoRA.Engine.Scheduling;

/// <summary>Where a sequence is in its life.</summary>
public enum SequenceState
{
    /// <summary>Queued; holds no pages.</summary>
    Waiting,
    /// <summary>Admitted: its pages are reserved and it is prefilling or decoding.</summary>
    Running,
    /// <summary>Done; its pages are returned.</summary>
    Finished,
}

/// <summary>
/// One request as the scheduler sees it: its tokens, how many of them have KV in the cache, and
/// the pages reserved for it. Holds no device state and no clock.
/// </summary>
public sealed class Sequence(long id, int[] prompt, SamplingParams sampling, string? adapterKey = null)
{
    private readonly List<int> _output = [];

    /// <summary>Engine-wide id, in arrival order.</summary>
    public long Id { get; } = id;

    /// <summary>Prompt token ids.</summary>
    public int[] Prompt { get; } = prompt;

    /// <summary>The adapter (a registered version of it) the sequence runs with; null for the base model.</summary>
    public string? AdapterKey { get; } = adapterKey;

    /// <summary>When it arrived, in seconds on the engine's clock.</summary>
    public double ArrivalTime { get; init; }

    /// <summary>When its first token must come by, in seconds on the engine's clock; null for none.</summary>
    public double? FirstTokenDeadline { get; init; }

    /// <summary>Sampling and stop parameters.</summary>
    public SamplingParams Sampling { get; } = sampling;

    /// <summary>Generated token ids.</summary>
    public IReadOnlyList<int> Output => _output;

    /// <summary>Lifecycle state.</summary>
    public SequenceState State { get; internal set; } = SequenceState.Waiting;

    /// <summary>Tokens whose KV is in the cache.</summary>
    public int NumComputed { get; internal set; }

    /// <summary>Pages reserved at admission, one per token of the worst case (prompt + max new tokens).</summary>
    public int[] Pages { get; internal set; } = [];

    /// <summary>Prompt plus generated tokens.</summary>
    public int Length => Prompt.Length + _output.Count;

    /// <summary>Tokens the sequence may reach: its KV reservation.</summary>
    public int WorstCaseLength => Prompt.Length + Sampling.MaxNewTokens;

    /// <summary>True while the prompt is not fully in the cache.</summary>
    public bool IsPrefilling => NumComputed < Prompt.Length;

    /// <summary>The token at position <paramref name="index"/> (prompt, then output).</summary>
    public int TokenAt(int index) => index < Prompt.Length ? Prompt[index] : _output[index - Prompt.Length];

    internal void Append(int token) => _output.Add(token);
}
