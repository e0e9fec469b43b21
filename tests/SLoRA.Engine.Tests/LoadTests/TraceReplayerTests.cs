using SLoRA.LoadTests.Replay;
using SLoRA.LoadTests.Workload;

namespace SLoRA.Engine.Tests.LoadTests;

/// <summary>The replayer against a fake target: pacing, counting and failures, without an engine.</summary>
[Collection(WallClockCollection.Name)]
public sealed class TraceReplayerTests
{
    private static WorkloadSpec Spec(int requests, double rate = 1000) => WorkloadSettings.S1 with
    {
        NumAdapters = 4, RequestRate = rate, Duration = null, NumRequests = requests, InputRange = new(8, 16), OutputRange = new(4, 12), Seed = 3,
    };

    private static async Task<ReplayResult> Replay(ITraceTarget target, WorkloadSpec spec, ReplayOptions? options = null, CancellationToken ct = default) =>
        await new TraceReplayer(target, options ?? new ReplayOptions()).RunAsync(spec, WorkloadGenerator.Generate(spec, 512), cancellationToken: ct);

    [Fact]
    public async Task Tokens_are_counted_per_request_and_in_total()
    {
        var spec = Spec(20);
        var result = await Replay(new FakeTarget(), spec);
        var trace = WorkloadGenerator.Generate(spec, 512);
        Assert.Equal(20, result.Report.Completed);
        Assert.Equal(trace.Select(r => r.OutputLength), result.Requests.Select(r => r.OutputTokens));
        Assert.Equal(trace.Sum(r => (long)r.OutputLength), result.Report.OutputTokens);
        Assert.Equal(trace.Sum(r => (long)r.InputLength), result.Report.InputTokens);
        Assert.All(result.Requests, r => Assert.Equal("length", r.FinishReason));
        Assert.All(result.Requests, r => Assert.True(r.FirstTokenLatency >= 0 && r.Latency >= r.FirstTokenLatency));
        Assert.Equal(result.Report.OutputTokens, result.Timeline[^1].OutputTokens);
        Assert.Equal(1.0, result.Report.SloAttainment);
    }

    [Fact]
    public async Task Overloaded_requests_are_recorded_as_failures_not_thrown()
    {
        var target = new FakeTarget
        {
            Fail = r => r.Index % 3 == 2 ? new TargetRequestException(FailureKind.Overloaded, "queue full") : null,
        };
        var result = await Replay(target, Spec(9));
        Assert.Equal((6, 3), (result.Report.Completed, result.Report.Failed));
        Assert.Equal(new Dictionary<string, int> { ["overloaded"] = 3 }, result.Report.Failures);
        Assert.All(result.Requests.Where(r => r.Index % 3 == 2), r =>
        {
            Assert.Equal(FailureKind.Overloaded, r.Failure);
            Assert.Equal("queue full", r.Error);
            Assert.Equal(0, r.OutputTokens);
            Assert.Null(r.FirstTokenSeconds);
        });
        Assert.Equal(6.0 / 9, result.Report.SloAttainment, 12);
    }

    [Fact]
    public async Task Other_errors_are_failures_of_their_own_kind()
    {
        var target = new FakeTarget
        {
            Fail = r => r.Index switch
            {
                0 => new InvalidOperationException("boom"),
                1 => new TargetRequestException(FailureKind.Aborted, "deadline"),
                2 => new TargetRequestException(FailureKind.Rejected, "too long"),
                _ => null,
            },
        };
        var result = await Replay(target, Spec(4));
        Assert.Equal(new Dictionary<string, int> { ["aborted"] = 1, ["error"] = 1, ["rejected"] = 1 }, result.Report.Failures);
        Assert.Contains("boom", result.Requests[0].Error);
        Assert.True(result.Requests[3].Completed);
    }

    [Fact]
    public async Task Requests_are_sent_at_their_time_scaled_arrivals()
    {
        var spec = Spec(6, rate: 10); // arrivals about 0.1 s apart, 0.6 s in all
        var trace = WorkloadGenerator.Generate(spec, 512);
        var result = await Replay(new FakeTarget(), spec, new ReplayOptions { TimeScale = 2 });
        for (int i = 0; i < trace.Count; i++)
        {
            var r = result.Requests[i];
            Assert.Equal(trace[i].ArrivalSeconds / 2, r.DueSeconds, 9);
            Assert.InRange(r.SentSeconds!.Value, r.DueSeconds - 0.001, r.DueSeconds + 2.0); // never early; late only by scheduler stalls
        }
        Assert.All(result.Requests.Zip(result.Requests.Skip(1)), p => Assert.True(p.Second.SentSeconds >= p.First.SentSeconds));
        Assert.True(result.Report.DurationSeconds >= trace[^1].ArrivalSeconds / 2 - 0.001); // sent at most 0.5 ms early
        Assert.Equal(2, result.Report.TimeScale);
    }

    [Fact]
    public async Task Cancelling_stops_sending_cancels_what_is_in_flight_and_still_reports()
    {
        // Seed 3 at 2 req/s: request 0 arrives at 0.56 s and streams for a second, the rest
        // arrive at 0.70 s and later. Cancelling at 0.9 s finds request 0 sent and unfinished
        // (timers fire in order, however late), and stops the rest being sent.
        var spec = Spec(10, rate: 2);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(900));
        var target = new FakeTarget { TokenDelay = TimeSpan.FromMilliseconds(100) };
        var started = DateTime.UtcNow;
        var result = await Replay(target, spec, ct: cancel.Token);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
        Assert.Equal(10, result.Requests.Count);
        Assert.Equal(new Dictionary<string, int> { ["cancelled"] = 10 }, result.Report.Failures);
        Assert.NotNull(result.Requests[0].SentSeconds);
        Assert.All(result.Requests.Skip(2), r => Assert.Null(r.SentSeconds));
    }

    [Fact]
    public async Task Progress_timeline_and_peak_are_recorded()
    {
        var progress = new List<ReplayProgress>();
        var options = new ReplayOptions
        {
            TimeScale = double.PositiveInfinity,
            SampleInterval = TimeSpan.FromMilliseconds(10),
            ProgressInterval = TimeSpan.FromMilliseconds(50),
            OnProgress = p => { lock (progress) progress.Add(p); },
        };
        var result = await Replay(new FakeTarget { TokenDelay = TimeSpan.FromMilliseconds(15) }, Spec(8), options);
        Assert.NotEmpty(progress);
        Assert.Contains("done", progress[0].ToString());
        Assert.Contains("/8", progress[0].ToString());
        Assert.True(result.Timeline.Count >= 5);
        Assert.All(result.Timeline.Zip(result.Timeline.Skip(1)), p => Assert.True(p.Second.OutputTokens >= p.First.OutputTokens));
        Assert.True(result.Report.MemoryPeak!.PagesKv >= 10);
        Assert.Equal(0, result.Report.MemoryEnd!.PagesKv);
    }

    [Fact]
    public async Task A_target_without_memory_figures_reports_none()
    {
        var result = await Replay(new FakeTarget { ReportsMemory = false }, Spec(3));
        Assert.Null(result.Report.MemoryPeak);
        Assert.Null(result.Report.MemoryEnd);
        Assert.Equal(3, result.Report.Completed);
    }
}
