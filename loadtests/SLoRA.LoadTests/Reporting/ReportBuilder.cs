using System.Text.Json;
using SLoRA.LoadTests.Replay;
using SLoRA.LoadTests.Workload;

namespace SLoRA.LoadTests.Reporting;

/// <summary>Turns per-request results into a <see cref="ReplayReport"/>.</summary>
public static class ReportBuilder
{
    /// <summary>Summarises <paramref name="requests"/> of a replay that took <paramref name="durationSeconds"/>.</summary>
    public static ReplayReport Build(WorkloadSpec spec, string target, ReplayOptions options, IReadOnlyList<RequestResult> requests,
        double durationSeconds, MemorySnapshot? peak, MemorySnapshot? end, IReadOnlyList<string> notes)
    {
        var completed = requests.Where(r => r.Completed).ToList();
        long outputTokens = requests.Sum(r => (long)r.OutputTokens);
        double PerSecond(double count) => durationSeconds > 0 ? count / durationSeconds : 0;
        int withinSlo = completed.Count(r => r.FirstTokenLatency < options.SloSeconds);
        return new ReplayReport
        {
            Workload = spec,
            Target = target,
            TimeScale = options.TimeScale,
            NumRequests = requests.Count,
            Completed = completed.Count,
            Failed = requests.Count - completed.Count,
            Failures = requests.Where(r => r.Failure is not null)
                .GroupBy(r => JsonNamingPolicy.SnakeCaseLower.ConvertName(r.Failure!.Value.ToString()))
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count()),
            DistinctAdapters = requests.Select(r => r.AdapterId).Distinct().Count(),
            DurationSeconds = durationSeconds,
            ThroughputRequestsPerSecond = PerSecond(completed.Count),
            ThroughputOutputTokensPerSecond = PerSecond(outputTokens),
            InputTokens = requests.Where(r => r.SentSeconds is not null).Sum(r => (long)r.InputLength),
            OutputTokens = outputTokens,
            AverageLatencyPerOutputTokenSeconds = completed.Count == 0 ? null
                : completed.Average(r => r.Latency!.Value / Math.Max(1, r.OutputTokens)),
            Latency = LatencySummary.Of(completed.Select(r => r.Latency!.Value)),
            FirstTokenLatency = LatencySummary.Of(completed.Where(r => r.FirstTokenLatency is not null).Select(r => r.FirstTokenLatency!.Value)),
            SloSeconds = options.SloSeconds,
            SloAttainment = requests.Count == 0 ? 0 : (double)withinSlo / requests.Count,
            MaxDispatchLagSeconds = requests.Select(r => r.DispatchLag ?? 0).DefaultIfEmpty(0).Max(),
            MemoryPeak = peak,
            MemoryEnd = end,
            Notes = notes,
        };
    }
}
