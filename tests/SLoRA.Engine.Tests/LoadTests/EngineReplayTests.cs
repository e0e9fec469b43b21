using System.Text.Json;
using System.Xml.Linq;
using SLoRA.Engine.Execution;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Serving;
using SLoRA.Engine.Tests.Model;
using SLoRA.LoadTests.Cli;
using SLoRA.LoadTests.Replay;
using SLoRA.LoadTests.Reporting;
using SLoRA.LoadTests.Workload;
using Xunit.Abstractions;

namespace SLoRA.Engine.Tests.LoadTests;

/// <summary>A short S-LoRA trace through the real engine on the CPU accelerator, arrivals compressed.</summary>
[Collection(CpuEngineCollection.Name)]
public sealed class EngineReplayTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_short_trace_completes_through_the_engine_with_every_token_counted()
    {
        var spec = WorkloadSettings.S2 with
        {
            NumAdapters = 4, Duration = null, NumRequests = 12, InputRange = new(8, 33), OutputRange = new(8, 33), Seed = 5,
        };
        var options = new EngineOptions { Accelerator = AcceleratorPreference.Cpu, Runner = new ModelRunnerOptions { NumPages = 1024 } };
        await using var engine = await LlmEngine.StartAsync(ModelSource.Synthetic(ModelChoice.Tiny, seed: 1), options);
        var target = new EngineTarget(engine, "tiny");
        await EngineTarget.RegisterAdaptersAsync(engine, spec, _ => { });
        var trace = WorkloadGenerator.Generate(spec, engine.Config.VocabSize);

        var replayOptions = new ReplayOptions { TimeScale = 1e6, ProgressInterval = TimeSpan.FromMilliseconds(200), OnProgress = p => output.WriteLine(p.ToString()) };
        var result = await new TraceReplayer(target, replayOptions).RunAsync(spec, trace);
        var report = result.Report;
        output.WriteLine(ReportSummary.Paragraph(report));

        Assert.Equal((12, 12, 0), (report.NumRequests, report.Completed, report.Failed));
        Assert.Equal(trace.Select(r => r.OutputLength), result.Requests.Select(r => r.OutputTokens));
        Assert.All(result.Requests, r => Assert.Equal("Length", r.FinishReason));
        long expectedTokens = trace.Sum(r => (long)r.OutputLength);
        Assert.Equal(expectedTokens, report.OutputTokens);
        Assert.Equal(expectedTokens, engine.GetStats().GeneratedTokens); // the engine agrees
        Assert.True(report.ThroughputOutputTokensPerSecond > 0);
        Assert.True(report.FirstTokenLatency!.P50 <= report.FirstTokenLatency.P90);
        Assert.True(report.FirstTokenLatency.Mean <= report.Latency!.Mean);

        var peak = report.MemoryPeak!;
        Assert.Equal(1024, peak.PagesTotal);
        Assert.InRange(peak.PagesKv, trace.Max(r => r.InputLength + r.OutputLength), trace.Sum(r => r.InputLength + r.OutputLength));
        // Every KV page is back; the adapters stay cached in the pool (evictable) until room is needed.
        Assert.True(report.MemoryEnd!.PagesAdapter > 0);
        Assert.Equal((0, 1024 - report.MemoryEnd.PagesAdapter, 0, 0), (report.MemoryEnd.PagesKv, report.MemoryEnd.PagesFree, report.MemoryEnd.Running, report.MemoryEnd.Waiting));

        using var folder = new TempFolder();
        var files = ReplayFiles.Write(result, folder.Path);
        Assert.All(files, f => Assert.True(new FileInfo(f).Length > 0, f));
        var svg = XDocument.Load(folder.File(ReplayFiles.Plot));
        Assert.Equal("svg", svg.Root!.Name.LocalName);
        using var json = JsonDocument.Parse(File.ReadAllText(folder.File(ReplayFiles.Report)));
        Assert.Equal(12, json.RootElement.GetProperty("completed").GetInt32());
        Assert.Equal(13, File.ReadAllLines(folder.File(ReplayFiles.Requests)).Length);
    }

    [Fact]
    public void Engine_requests_are_greedy_ignore_EOS_and_ask_for_exactly_the_output_length()
    {
        var request = WorkloadGenerator.Generate(WorkloadSettings.S1 with { Duration = null, NumRequests = 1 }, 512)[0];
        var engineRequest = EngineTarget.ToEngineRequest(request);
        Assert.Equal(request.PromptTokens(), engineRequest.PromptTokens);
        Assert.Equal(request.OutputLength, engineRequest.Sampling.MaxNewTokens);
        Assert.True(engineRequest.Sampling.IgnoreEos);
        Assert.Equal(0f, engineRequest.Sampling.Temperature);
        Assert.StartsWith("adapter-", request.AdapterId);
    }
}
