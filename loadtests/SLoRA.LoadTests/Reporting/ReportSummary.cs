using System.Globalization;
using System.Text;

namespace SLoRA.LoadTests.Reporting;

/// <summary>A replay report in one paragraph of prose, for the console.</summary>
public static class ReportSummary
{
    /// <summary>The paragraph.</summary>
    public static string Paragraph(ReplayReport r)
    {
        var s = new StringBuilder();
        void Add(FormattableString text) => s.Append(text.ToString(CultureInfo.InvariantCulture));

        Add($"Replayed {r.NumRequests} requests of S-LoRA's synthetic workload ({r.Workload}) against {r.Target}");
        Add($"{(r.TimeScale != 1 ? $", time scaled {r.TimeScale:G4}x" : "")}, in {r.DurationSeconds:F1} s: {r.Completed} completed, {r.Failed} failed");
        if (r.Failures.Count > 0)
            Add($" ({string.Join(", ", r.Failures.Select(f => $"{f.Key} {f.Value}"))})");
        Add($". Throughput {r.ThroughputRequestsPerSecond:F2} req/s and {r.ThroughputOutputTokensPerSecond:F1} output tokens/s ({r.OutputTokens} tokens).");
        if (r.Latency is { } latency && r.FirstTokenLatency is { } ft)
        {
            Add($" Average latency {latency.Mean:F2} s; first-token latency mean {ft.Mean:F3} s, p50 {ft.P50:F3} s, p90 {ft.P90:F3} s, p99 {ft.P99:F3} s.");
        }
        Add($" {r.SloAttainment * 100:F1}% of requests got their first token within {r.SloSeconds:G4} s.");
        if (r.MemoryPeak is { } peak)
            Add($" Peak page use {peak.PagesUsed} of {peak.PagesTotal} (KV {peak.PagesKv}, adapters {peak.PagesAdapter}, {peak.Running} running, {peak.Waiting} waiting)");
        if (r.MemoryEnd is { } end)
            Add($"; after the run {end.PagesUsed} in use (KV {end.PagesKv}, adapters {end.PagesAdapter}).");
        else if (r.MemoryPeak is not null)
            s.Append('.');
        if (r.MaxDispatchLagSeconds > 0.1)
            Add($" The replayer sent some requests up to {r.MaxDispatchLagSeconds:F2} s late.");
        foreach (var note in r.Notes)
            Add($" Note: {note}.");
        return s.ToString();
    }
}
