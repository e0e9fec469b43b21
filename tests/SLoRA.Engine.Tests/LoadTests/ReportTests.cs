using System.Text.Json;
using System.Xml.Linq;
using SLoRA.LoadTests.Replay;
using SLoRA.LoadTests.Reporting;
using SLoRA.LoadTests.Workload;

namespace SLoRA.Engine.Tests.LoadTests;

public sealed class ReportTests
{
    private static readonly WorkloadSpec Spec = WorkloadSettings.S2 with { Duration = null, NumRequests = 5 };

    private static RequestResult Done(int index, double sent, double firstToken, double finished, int tokens) =>
        new(index, TraceAdapter.IdOf(index), 10, tokens, sent, sent, firstToken, finished, tokens, "Length", null, null);

    private static RequestResult Failed(int index, FailureKind kind) =>
        new(index, TraceAdapter.IdOf(index), 10, 5, 1.0, 1.0, null, 1.0, 0, null, kind, "refused");

    private static IReadOnlyList<RequestResult> Sample() =>
    [
        Done(0, sent: 0.0, firstToken: 1.0, finished: 3.0, tokens: 20),
        Done(1, sent: 1.0, firstToken: 4.0, finished: 5.0, tokens: 10),
        Done(2, sent: 2.0, firstToken: 8.0, finished: 10.0, tokens: 10), // first token after 6 s: misses the SLO
        Failed(3, FailureKind.Overloaded),
        Failed(4, FailureKind.Overloaded),
    ];

    private static ReplayReport Build(IReadOnlyList<RequestResult>? requests = null) =>
        ReportBuilder.Build(Spec, "fake", new ReplayOptions(), requests ?? Sample(), durationSeconds: 10,
            peak: new MemorySnapshot(100, 40, 55, 5, 3, 1), end: new MemorySnapshot(100, 95, 0, 5, 0, 0), notes: ["a note"]);

    [Fact]
    public void Throughput_and_latency_follow_S_LoRA()
    {
        var report = Build();
        Assert.Equal((5, 3, 2), (report.NumRequests, report.Completed, report.Failed));
        Assert.Equal(0.3, report.ThroughputRequestsPerSecond, 12); // completed / duration
        Assert.Equal(4.0, report.ThroughputOutputTokensPerSecond, 12);
        Assert.Equal(40, report.OutputTokens);
        Assert.Equal(50, report.InputTokens); // every request was sent
        Assert.Equal((3.0 + 4.0 + 8.0) / 3, report.AverageLatencySeconds!.Value, 12);
        Assert.Equal((1.0 + 3.0 + 6.0) / 3, report.FirstTokenLatency!.Mean, 12);
        Assert.Equal(3.0, report.FirstTokenLatency.P50, 12);
        Assert.Equal(6.0, report.FirstTokenLatency.Max, 12);
        Assert.Equal((3.0 / 20 + 4.0 / 10 + 8.0 / 10) / 3, report.AverageLatencyPerOutputTokenSeconds!.Value, 12);
        Assert.Equal(new Dictionary<string, int> { ["overloaded"] = 2 }, report.Failures);
        Assert.Equal(5, report.DistinctAdapters);
    }

    [Fact]
    public void SLO_attainment_is_strict_and_counts_failures_as_misses()
    {
        var report = Build();
        Assert.Equal(6.0, report.SloSeconds);
        Assert.Equal(2.0 / 5, report.SloAttainment, 12); // a first token at exactly 6 s misses, as attainment_func
        var relaxed = ReportBuilder.Build(Spec, "fake", new ReplayOptions { SloSeconds = 6.5 }, Sample(), 10, null, null, []);
        Assert.Equal(3.0 / 5, relaxed.SloAttainment, 12);
    }

    [Fact]
    public void A_run_with_nothing_completed_still_reports()
    {
        var report = Build([Failed(0, FailureKind.Overloaded), Failed(1, FailureKind.Error)]);
        Assert.Equal(0, report.Completed);
        Assert.Null(report.Latency);
        Assert.Null(report.FirstTokenLatency);
        Assert.Equal(0, report.SloAttainment);
        Assert.Equal(["error", "overloaded"], report.Failures.Keys);
        Assert.Contains("\"latency\": null", ReportJson.Serialize(report));
    }

    [Fact]
    public void Json_is_snake_case_and_reads_back()
    {
        var report = Build();
        string json = ReportJson.Serialize(report);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        foreach (string name in new[] { "throughput_requests_per_second", "throughput_output_tokens_per_second", "average_latency_seconds",
                     "first_token_latency", "slo_attainment", "num_requests", "failed", "duration_seconds", "memory_peak", "memory_end", "workload" })
            Assert.True(root.TryGetProperty(name, out _), $"report.json lacks {name}");
        Assert.Equal(3.0, root.GetProperty("first_token_latency").GetProperty("p50").GetDouble(), 12);
        Assert.Equal(55, root.GetProperty("memory_peak").GetProperty("pages_kv").GetInt32());
        Assert.Equal(5, root.GetProperty("memory_end").GetProperty("pages_adapter").GetInt32());
        var workload = root.GetProperty("workload");
        Assert.Equal("S2", workload.GetProperty("name").GetString());
        Assert.Equal(512, workload.GetProperty("input_range").GetProperty("max_exclusive").GetInt32());
        Assert.Equal([64, 32, 16, 8], workload.GetProperty("adapter_ranks").EnumerateArray().Select(e => e.GetInt32()));

        var back = ReportJson.Deserialize(json);
        Assert.Equal(report.FirstTokenLatency, back.FirstTokenLatency);
        Assert.Equal(report.MemoryPeak, back.MemoryPeak);
        Assert.Equal(report.Workload.InputRange, back.Workload.InputRange);
        Assert.Equal(report.SloAttainment, back.SloAttainment);
    }

    [Fact]
    public void The_plot_is_well_formed_SVG_with_a_panel_each()
    {
        var timeline = Enumerable.Range(0, 30)
            .Select(i => new TimelineSample(i * 0.1, Math.Min(5, i), Math.Min(3, i / 10), 0, i * 4L, new MemorySnapshot(100, 100 - i, i, 0, 1, 0)))
            .ToList();
        var result = new ReplayResult(Build(), Sample(), timeline);
        var svg = XDocument.Parse(ReplayPlot.Render(result));
        XNamespace ns = "http://www.w3.org/2000/svg";
        var titles = svg.Descendants(ns + "text").Where(t => t.Attribute("font-weight")?.Value == "bold").Select(t => t.Value).ToList();
        Assert.Equal(4, titles.Count);
        Assert.Contains(titles, t => t.Contains("Latency CDF") && t.Contains("40.0%"));
        Assert.Contains(titles, t => t.Contains("throughput"));
        Assert.Contains(titles, t => t.Contains("page pool"));
        Assert.True(svg.Descendants(ns + "path").Count() >= 6);

        var withoutMemory = result with { Timeline = [.. timeline.Select(s => s with { Memory = null })] };
        Assert.Equal(3, XDocument.Parse(ReplayPlot.Render(withoutMemory)).Descendants(ns + "text")
            .Count(t => t.Attribute("font-weight")?.Value == "bold"));
    }

    [Fact]
    public void The_plot_of_an_empty_run_still_renders()
    {
        var result = new ReplayResult(Build([Failed(0, FailureKind.Overloaded)]), [Failed(0, FailureKind.Overloaded)], []);
        Assert.NotNull(XDocument.Parse(ReplayPlot.Render(result)).Root);
    }

    [Theory]
    [InlineData(1.0, 0.2)]
    [InlineData(7.3, 1.0)]
    [InlineData(8.0, 2.0)]
    [InlineData(100.0, 20.0)]
    [InlineData(0.034, 0.005)]
    public void Axis_ticks_step_by_1_2_5(double range, double step)
    {
        Assert.Equal(step, SvgLineChart.NiceStep(range), 12);
    }

    [Fact]
    public void The_csv_has_a_row_per_request_and_quotes_commas()
    {
        var rows = RequestsCsv.Render([.. Sample(), Failed(5, FailureKind.Error) with { Error = "bad, \"very\"" }]).TrimEnd('\n').Split('\n');
        Assert.Equal(7, rows.Length);
        Assert.StartsWith("index,adapter_id,", rows[0]);
        Assert.StartsWith("0,adapter-0,10,20,", rows[1]);
        Assert.Contains(",overloaded,", rows[4]);
        Assert.EndsWith(",error,\"bad, \"\"very\"\"\"", rows[6]);
    }

    [Fact]
    public void The_summary_paragraph_names_the_key_figures()
    {
        string text = ReportSummary.Paragraph(Build());
        Assert.Contains("5 requests", text);
        Assert.Contains("3 completed, 2 failed (overloaded 2)", text);
        Assert.Contains("0.30 req/s", text);
        Assert.Contains("40.0% of requests got their first token within 6 s", text);
        Assert.Contains("Peak page use 60 of 100", text);
        Assert.Contains("Note: a note.", text);
    }
}
