namespace SLoRA.Engine.Serving;

/// <summary>
/// The engine thread's running counts (steps, tokens, decode timings, token rate, prefill cost
/// per token), turned into <see cref="EngineStats"/> snapshots. Written by the engine thread only.
/// </summary>
internal sealed class EngineCounters
{
    private double _rateWindowStart, _rate;
    private long _rateWindowTokens;

    public long Steps { get; private set; }
    public long GeneratedTokens { get; private set; }
    public int LastBatchSize { get; private set; }
    public int LastBatchAdapters { get; private set; }
    public long DecodeSteps { get; private set; }
    public double DecodeSeconds { get; private set; }
    public long DecodeContextTokens { get; private set; }

    /// <summary>Recent cost of computing one token in a step (an average over steps), for deadline estimates.</summary>
    public double SecondsPerToken { get; private set; }

    /// <summary>Records a step that computed <paramref name="tokens"/> tokens for <paramref name="sequences"/> sequences.</summary>
    public void RecordStep(double seconds, int tokens, int sequences, int adapters, int contextTokens)
    {
        Steps++;
        double perToken = seconds / tokens;
        SecondsPerToken = SecondsPerToken == 0 ? perToken : 0.8 * SecondsPerToken + 0.2 * perToken;
        if (tokens == sequences)
        {
            // Only decode tokens: one per sequence.
            DecodeSteps++;
            DecodeSeconds += seconds;
            DecodeContextTokens += contextTokens;
        }
        LastBatchSize = sequences;
        LastBatchAdapters = adapters;
    }

    public void RecordToken() => GeneratedTokens++;

    /// <summary>Generated tokens per second, measured over windows of at least one second.</summary>
    public double TokenRate(double now)
    {
        if (now - _rateWindowStart >= 1.0)
        {
            _rate = (GeneratedTokens - _rateWindowTokens) / (now - _rateWindowStart);
            _rateWindowStart = now;
            _rateWindowTokens = GeneratedTokens;
        }
        return _rate;
    }
}
