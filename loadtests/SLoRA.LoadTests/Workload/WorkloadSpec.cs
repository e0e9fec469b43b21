using System.Globalization;

namespace SLoRA.LoadTests.Workload;

/// <summary>
/// S-LoRA's synthetic workload (benchmarks/trace.py, <c>generate_requests</c>): which adapters
/// exist, how popular each is, when requests arrive and how long they are. Give exactly one of
/// <see cref="Duration"/> and <see cref="NumRequests"/>.
/// </summary>
public sealed record WorkloadSpec
{
    /// <summary>The named setting it started from (S1, S2), for reports; null for a spec built by hand.</summary>
    public string? Name { get; init; }

    /// <summary>Adapters in the pool ("adapter-0" … "adapter-{n-1}").</summary>
    public int NumAdapters { get; init; } = 100;

    /// <summary>Adapter ranks, handed out round-robin by adapter index as S-LoRA's <c>get_adapter_dirs</c> does.</summary>
    public int[] AdapterRanks { get; init; } = [8];

    /// <summary>Power-law exponent of adapter popularity: the adapter index is ⌊n·X⌋, X = U^(1/α); α &lt; 1 favours low indices, α = 1 is uniform.</summary>
    public double Alpha { get; init; } = 1;

    /// <summary>Mean arrival rate R in requests per second.</summary>
    public double RequestRate { get; init; } = 2;

    /// <summary>Coefficient of variation of the Gamma inter-arrival times; 1 is a Poisson process, larger is burstier.</summary>
    public double Cv { get; init; } = 1;

    /// <summary>Prompt lengths, uniform in the range.</summary>
    public TokenRange InputRange { get; init; } = new(8, 512);

    /// <summary>Output lengths (max new tokens, EOS ignored), uniform in the range.</summary>
    public TokenRange OutputRange { get; init; } = new(8, 512);

    /// <summary>Trace length in seconds: ⌊R · duration⌋ requests, as S-LoRA.</summary>
    public double? Duration { get; init; }

    /// <summary>Trace length as a request count.</summary>
    public int? NumRequests { get; init; }

    /// <summary>Seed of every random draw.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Requests in the trace.</summary>
    public int RequestCount => NumRequests ?? (int)Math.Floor(RequestRate * (Duration ?? 0));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (NumAdapters < 1)
            throw new ArgumentException($"the number of adapters must be at least 1, got {NumAdapters}.", nameof(NumAdapters));
        if (AdapterRanks.Length == 0 || AdapterRanks.Any(r => r < 1))
            throw new ArgumentException("adapter ranks must be a non-empty list of positive numbers.", nameof(AdapterRanks));
        RequirePositive(Alpha, "alpha");
        RequirePositive(RequestRate, "request rate");
        RequirePositive(Cv, "cv");
        InputRange.Validate("input");
        OutputRange.Validate("output");
        if ((Duration is null) == (NumRequests is null))
            throw new ArgumentException("give exactly one of a duration and a request count.", nameof(Duration));
        if (Duration is { } d)
            RequirePositive(d, "duration");
        if (NumRequests is < 1)
            throw new ArgumentException($"the request count must be at least 1, got {NumRequests}.", nameof(NumRequests));
    }

    /// <summary>
    /// This spec with its length ranges shrunk, if need be, so that the longest prompt plus the
    /// longest output fits <paramref name="maxTotalTokens"/> (the model's context, or the KV pool).
    /// Both upper bounds shrink in proportion; <paramref name="note"/> says what changed, or is null.
    /// </summary>
    public WorkloadSpec FitTo(int maxTotalTokens, out string? note)
    {
        int a = InputRange.MaxInclusive, b = OutputRange.MaxInclusive;
        note = null;
        if (a + b <= maxTotalTokens)
            return this;
        int a2 = Math.Max(InputRange.Min, (int)((long)a * maxTotalTokens / (a + b)));
        int b2 = Math.Min(b, maxTotalTokens - a2);
        if (b2 < OutputRange.Min)
            throw new ArgumentException($"input {InputRange} and output {OutputRange} cannot fit {maxTotalTokens} tokens even at their minimum lengths.");
        var fitted = this with { InputRange = new TokenRange(InputRange.Min, a2 + 1), OutputRange = new TokenRange(OutputRange.Min, b2 + 1) };
        note = string.Create(CultureInfo.InvariantCulture,
            $"lengths clamped to fit {maxTotalTokens} tokens per request: input {InputRange} -> {fitted.InputRange}, output {OutputRange} -> {fitted.OutputRange}");
        return fitted;
    }

    /// <summary>One line for logs.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(Name is null ? "" : Name + ": ")}{NumAdapters} adapters (ranks {string.Join("/", AdapterRanks)}), alpha {Alpha}, {RequestRate} req/s, cv {Cv}, " +
        $"input {InputRange}, output {OutputRange}, {(NumRequests is { } n ? $"{n} requests" : $"{Duration} s")}, seed {Seed}");

    private static void RequirePositive(double value, string name)
    {
        if (!(value > 0) || !double.IsFinite(value))
            throw new ArgumentException($"{name} must be a positive number, got {value}.", name);
    }
}
