using System.Globalization;
using System.Text;
using SLoRA.LoadTests.Replay;

namespace SLoRA.LoadTests.Reporting;

/// <summary>
/// The replay at a glance, as one SVG of stacked panels: the latency CDFs against the SLO,
/// output throughput over time, requests in flight and queued, and the page pool over time.
/// </summary>
public static class ReplayPlot
{
    private const double Width = 820, PanelHeight = 270;
    private const string Blue = "#1f77b4", Orange = "#ff7f0e", Green = "#2ca02c", Red = "#d62728", Purple = "#9467bd";

    /// <summary>Writes the plot of <paramref name="result"/> to <paramref name="path"/>.</summary>
    public static void Write(ReplayResult result, string path) => File.WriteAllText(path, Render(result));

    /// <summary>The plot of <paramref name="result"/> as SVG text.</summary>
    public static string Render(ReplayResult result)
    {
        var panels = new List<SvgLineChart> { LatencyCdf(result), Throughput(result), Requests(result) };
        if (result.Timeline.Any(s => s.Memory is not null))
            panels.Add(Pages(result));
        double height = panels.Count * PanelHeight;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        for (int i = 0; i < panels.Count; i++)
            panels[i].Render(svg, 0, i * PanelHeight, Width, PanelHeight);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Fraction of all requests (failed ones never arrive) served within x seconds.</summary>
    private static SvgLineChart LatencyCdf(ReplayResult result)
    {
        var report = result.Report;
        int total = Math.Max(1, result.Requests.Count);
        ChartSeries Cdf(string name, string color, Func<RequestResult, double?> latency, bool dashed)
        {
            var sorted = result.Requests.Where(r => r.Completed).Select(latency).OfType<double>().Order().ToList();
            var points = new List<(double, double)>(sorted.Count + 1) { (0, 0) };
            for (int i = 0; i < sorted.Count; i++)
                points.Add((sorted[i], (i + 1.0) / total));
            return new ChartSeries(name, color, points, Step: true, Dashed: dashed);
        }
        string title = string.Create(CultureInfo.InvariantCulture,
            $"Latency CDF: first token within {report.SloSeconds:G4} s for {report.SloAttainment * 100:F1}% of {report.NumRequests} requests");
        return new SvgLineChart
        {
            Title = title,
            XLabel = "latency (s)",
            YLabel = "fraction of all requests",
            YMax = 1,
            Series = [Cdf("first token", Blue, r => r.FirstTokenLatency, false), Cdf("end to end", Orange, r => r.Latency, true)],
            Markers = [(report.SloSeconds, string.Create(CultureInfo.InvariantCulture, $"SLO {report.SloSeconds:G4} s"))],
        };
    }

    /// <summary>Output tokens per second over a trailing one-second window.</summary>
    private static SvgLineChart Throughput(ReplayResult result)
    {
        var timeline = result.Timeline;
        var points = new List<(double, double)>();
        int j = 0;
        for (int k = 1; k < timeline.Count; k++)
        {
            while (j + 1 < k && timeline[k].Seconds - timeline[j + 1].Seconds >= 1.0)
                j++;
            double dt = timeline[k].Seconds - timeline[j].Seconds;
            if (dt > 0)
                points.Add((timeline[k].Seconds, (timeline[k].OutputTokens - timeline[j].OutputTokens) / dt));
        }
        return new SvgLineChart
        {
            Title = string.Create(CultureInfo.InvariantCulture,
                $"Output throughput: {result.Report.ThroughputOutputTokensPerSecond:F1} tokens/s, {result.Report.ThroughputRequestsPerSecond:F2} req/s overall"),
            XLabel = "time (s)",
            YLabel = "output tokens/s (1 s window)",
            Series = [new ChartSeries("output tokens/s", Green, points)],
        };
    }

    /// <summary>Requests in flight at the replayer, and running and waiting at the target.</summary>
    private static SvgLineChart Requests(ReplayResult result)
    {
        var timeline = result.Timeline;
        var series = new List<ChartSeries> { new("in flight", Blue, [.. timeline.Select(s => (s.Seconds, (double)s.InFlight))]) };
        if (timeline.Any(s => s.Memory is not null))
        {
            series.Add(new ChartSeries("running", Green, [.. timeline.Where(s => s.Memory is not null).Select(s => (s.Seconds, (double)s.Memory!.Running))]));
            series.Add(new ChartSeries("waiting", Red, [.. timeline.Where(s => s.Memory is not null).Select(s => (s.Seconds, (double)s.Memory!.Waiting))], Dashed: true));
        }
        int failed = result.Report.Failed;
        return new SvgLineChart
        {
            Title = string.Create(CultureInfo.InvariantCulture, $"Requests: {result.Report.Completed} completed, {failed} failed"),
            XLabel = "time (s)",
            YLabel = "requests",
            Series = series,
        };
    }

    /// <summary>Pages of the unified pool in use, by kind, against the pool's size.</summary>
    private static SvgLineChart Pages(ReplayResult result)
    {
        var samples = result.Timeline.Where(s => s.Memory is not null).ToList();
        int total = samples.Max(s => s.Memory!.PagesTotal);
        var peak = result.Report.MemoryPeak;
        return new SvgLineChart
        {
            Title = string.Create(CultureInfo.InvariantCulture,
                $"Unified page pool: peak {peak?.PagesUsed ?? 0} of {total} pages in use (KV {peak?.PagesKv ?? 0}, adapters {peak?.PagesAdapter ?? 0})"),
            XLabel = "time (s)",
            YLabel = "pages",
            YMax = Math.Max(1, total),
            Series =
            [
                new ChartSeries("used", Purple, [.. samples.Select(s => (s.Seconds, (double)s.Memory!.PagesUsed))]),
                new ChartSeries("KV cache", Blue, [.. samples.Select(s => (s.Seconds, (double)s.Memory!.PagesKv))], Dashed: true),
                new ChartSeries("adapters", Orange, [.. samples.Select(s => (s.Seconds, (double)s.Memory!.PagesAdapter))], Dashed: true),
            ],
        };
    }
}
