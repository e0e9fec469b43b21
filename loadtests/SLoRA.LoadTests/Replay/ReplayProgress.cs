using System.Globalization;

namespace SLoRA.LoadTests.Replay;

/// <summary>A progress line of a running replay.</summary>
/// <param name="Sample">The counters now.</param>
/// <param name="Total">Requests in the trace.</param>
public sealed record ReplayProgress(TimelineSample Sample, int Total)
{
    /// <summary>Requests finished, completed or failed.</summary>
    public int Done => Sample.Completed + Sample.Failed;

    /// <summary>Output tokens per second since the start.</summary>
    public double TokensPerSecond => Sample.Seconds > 0 ? Sample.OutputTokens / Sample.Seconds : 0;

    /// <inheritdoc/>
    public override string ToString()
    {
        var s = Sample;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"[replay] {s.Seconds,7:F1} s  done {Done}/{Total}  failed {s.Failed}  in flight {s.InFlight}  tokens {s.OutputTokens} ({TokensPerSecond:F1} tok/s)");
        if (s.Memory is { } m)
            line += string.Create(CultureInfo.InvariantCulture, $"  running {m.Running} waiting {m.Waiting}  pages used {m.PagesUsed}/{m.PagesTotal}");
        return line;
    }
}
