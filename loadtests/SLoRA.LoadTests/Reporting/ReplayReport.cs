using SLoRA.LoadTests.Replay;
using SLoRA.LoadTests.Workload;

namespace SLoRA.LoadTests.Reporting;

/// <summary>
/// The summary of a replay, written as report.json (snake_case). Its figures follow S-LoRA's
/// run_exp.py: throughput counts completed requests over the whole run, latencies are over
/// completed requests, and SLO attainment counts failed requests as misses.
/// </summary>
public sealed record ReplayReport
{
    /// <summary>The workload replayed (after any clamping; see <see cref="Notes"/>).</summary>
    public required WorkloadSpec Workload { get; init; }

    /// <summary>Which target served it.</summary>
    public required string Target { get; init; }

    /// <summary>Trace time ran this many times faster than the wall clock.</summary>
    public required double TimeScale { get; init; }

    /// <summary>When the replay started (UTC).</summary>
    public DateTime StartedAtUtc { get; init; }

    /// <summary>Requests in the trace.</summary>
    public required int NumRequests { get; init; }

    /// <summary>Requests that completed.</summary>
    public required int Completed { get; init; }

    /// <summary>Requests that did not.</summary>
    public required int Failed { get; init; }

    /// <summary>Failed requests by kind (snake_case kind names).</summary>
    public required IReadOnlyDictionary<string, int> Failures { get; init; }

    /// <summary>Distinct adapters the trace used.</summary>
    public required int DistinctAdapters { get; init; }

    /// <summary>Wall-clock seconds from the start until the last request finished.</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>Completed requests per second.</summary>
    public required double ThroughputRequestsPerSecond { get; init; }

    /// <summary>Output tokens received per second.</summary>
    public required double ThroughputOutputTokensPerSecond { get; init; }

    /// <summary>Prompt tokens of the requests sent.</summary>
    public required long InputTokens { get; init; }

    /// <summary>Output tokens received.</summary>
    public required long OutputTokens { get; init; }

    /// <summary>Mean end-to-end latency of completed requests, in seconds.</summary>
    public double? AverageLatencySeconds => Latency?.Mean;

    /// <summary>Mean of latency / output tokens over completed requests, in seconds.</summary>
    public required double? AverageLatencyPerOutputTokenSeconds { get; init; }

    /// <summary>End-to-end latency of completed requests.</summary>
    public required LatencySummary? Latency { get; init; }

    /// <summary>First-token latency of completed requests.</summary>
    public required LatencySummary? FirstTokenLatency { get; init; }

    /// <summary>The first-token objective, in seconds.</summary>
    public required double SloSeconds { get; init; }

    /// <summary>Fraction of all requests whose first token came strictly within <see cref="SloSeconds"/>.</summary>
    public required double SloAttainment { get; init; }

    /// <summary>Largest delay between a request's due time and its sending: a replay that cannot keep up shows here.</summary>
    public required double MaxDispatchLagSeconds { get; init; }

    /// <summary>The target's pages when the most were in use (null when the target does not report them).</summary>
    public required MemorySnapshot? MemoryPeak { get; init; }

    /// <summary>The target's pages after the run drained.</summary>
    public required MemorySnapshot? MemoryEnd { get; init; }

    /// <summary>Anything the reader should know: clamped lengths, a cancelled run.</summary>
    public required IReadOnlyList<string> Notes { get; init; }
}
