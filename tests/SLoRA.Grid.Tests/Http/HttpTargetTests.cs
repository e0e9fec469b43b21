using SLoRA.LoadTests.Replay;
using SLoRA.LoadTests.Workload;

namespace SLoRA.Grid.Tests.Http;

/// <summary>The load tester's HTTP target: an S-LoRA trace replayed over /generate_stream against the silos.</summary>
[Collection(HttpCollection.Name)]
public sealed class HttpTargetTests(HttpGrid grid)
{
    [Fact]
    public async Task A_short_trace_replays_over_http_with_every_token_counted_and_pages_read_from_metrics()
    {
        var spec = WorkloadSettings.S2 with
        {
            NumAdapters = 3, AdapterRanks = [16, 8], Duration = null, NumRequests = 8, InputRange = new(8, 33), OutputRange = new(4, 17), Seed = 3,
        };
        await using var target = await HttpTarget.ConnectAsync([grid.BaseUrl]);
        await target.WarmUpAsync();
        await target.RegisterAdaptersAsync(spec, _ => { });
        var trace = WorkloadGenerator.Generate(spec, target.Config.VocabSize);

        var result = await new TraceReplayer(target, new ReplayOptions { TimeScale = 1e6 }).RunAsync(spec, trace);

        Assert.Equal((8, 8, 0), (result.Report.NumRequests, result.Report.Completed, result.Report.Failed));
        Assert.Equal(trace.Select(r => r.OutputLength), result.Requests.Select(r => r.OutputTokens));
        Assert.All(result.Requests, r => Assert.Equal("Length", r.FinishReason));
        Assert.Equal(HttpGrid.BaseModel, target.BaseModel);
        var pages = target.Snapshot();
        Assert.NotNull(pages);
        Assert.Equal(2048, pages.PagesTotal); // silo A's pool, from its /metrics
    }

    [Fact]
    public void Engine_figures_are_read_from_prometheus_text()
    {
        const string text = """
            # TYPE slora_engine_pages gauge
            slora_engine_pages{otel_scope_name="SLoRA.Grid.Engine",kind="total"} 4096
            slora_engine_pages{otel_scope_name="SLoRA.Grid.Engine",kind="free"} 3956
            slora_engine_pages{otel_scope_name="SLoRA.Grid.Engine",kind="kv_cache"} 12
            slora_engine_pages{otel_scope_name="SLoRA.Grid.Engine",kind="adapter"} 128
            slora_engine_running{otel_scope_name="SLoRA.Grid.Engine"} 3
            slora_engine_queue_depth{otel_scope_name="SLoRA.Grid.Engine"} 7
            """;

        Assert.Equal(new MemorySnapshot(4096, 3956, 12, 128, 3, 7), HttpTarget.ParseMetrics(text));
        Assert.Null(HttpTarget.ParseMetrics("orleans_grains 3\n"));
    }
}
