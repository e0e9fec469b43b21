using System.Diagnostics;
using SLoRA.LoadTests.Reporting;
using SLoRA.LoadTests.Workload;

namespace SLoRA.LoadTests.Replay;

/// <summary>
/// Replays a trace against a target as S-LoRA's benchmark client does: each request is sent at
/// its (time-scaled) arrival time without waiting for earlier ones, its tokens are streamed,
/// and first-token and end-to-end latencies are measured from the moment it was sent. Failed
/// requests are recorded, never thrown.
/// </summary>
public sealed class TraceReplayer(ITraceTarget target, ReplayOptions? options = null)
{
    private readonly ReplayOptions _options = options ?? new ReplayOptions();

    /// <summary>
    /// Replays <paramref name="trace"/> (generated from <paramref name="spec"/>) and summarises
    /// it. Cancelling stops sending, cancels what is in flight, and still returns a report.
    /// </summary>
    public async Task<ReplayResult> RunAsync(WorkloadSpec spec, IReadOnlyList<TraceRequest> trace,
        IReadOnlyList<string>? notes = null, CancellationToken cancellationToken = default)
    {
        _options.Validate();
        var counters = new ReplayCounters();
        var peak = new PeakTracker();
        var timeline = new List<TimelineSample>();
        var results = new RequestResult?[trace.Count];
        var tasks = new List<Task>(trace.Count);
        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        double Now() => clock.Elapsed.TotalSeconds;

        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(() => SampleAsync(Now, counters, peak, timeline, trace.Count, stopSampling.Token), CancellationToken.None);
        try
        {
            for (int i = 0; i < trace.Count; i++)
            {
                double due = trace[i].ArrivalSeconds / _options.TimeScale;
                double wait;
                while ((wait = due - Now()) > 0.0005) // timers may fire a little early: check the clock again
                    await Task.Delay(TimeSpan.FromSeconds(Math.Max(wait, 0.001)), cancellationToken).ConfigureAwait(false);
                // Called on this loop, not through Task.Run: the request reaches the target at
                // its due time even when the thread pool is busy (targets return at their first await).
                tasks.Add(SendAsync(trace[i], due, Now, counters, peak, cancellationToken).ContinueWith(
                    (t, slot) => results[(int)slot!] = t.Result, i, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stop sending; what was sent finishes as cancelled, the rest is recorded below.
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
        double duration = Now();
        await stopSampling.CancelAsync().ConfigureAwait(false);
        await sampler.ConfigureAwait(false);

        var end = await SettleAsync().ConfigureAwait(false);
        peak.Observe(end);
        timeline.Add(counters.Sample(Now(), end));

        var all = new RequestResult[trace.Count];
        for (int i = 0; i < all.Length; i++)
            all[i] = results[i] ?? NotSent(trace[i], trace[i].ArrivalSeconds / _options.TimeScale, duration);
        var report = ReportBuilder.Build(spec, target.Description, _options, all, duration, peak.Peak, end, notes ?? []) with { StartedAtUtc = startedAt };
        return new ReplayResult(report, all, timeline);
    }

    private async Task<RequestResult> SendAsync(TraceRequest request, double due, Func<double> now, ReplayCounters counters,
        PeakTracker peak, CancellationToken cancellationToken)
    {
        double sent = now();
        counters.Sent();
        double? first = null;
        int tokens = 0;
        string? finish = null;
        FailureKind? failure = null;
        string? error = null;
        try
        {
            await foreach (var item in target.SendAsync(request, cancellationToken).ConfigureAwait(false))
            {
                if (item.IsToken)
                {
                    if (first is null)
                    {
                        first = now();
                        peak.Observe(target.Snapshot()); // pages are reserved at admission, just before the first token
                    }
                    tokens++;
                    counters.Token();
                }
                finish = item.FinishReason ?? finish;
            }
        }
        catch (TargetRequestException e)
        {
            (failure, error) = (e.Kind, e.Message);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            (failure, error) = (FailureKind.Cancelled, e.Message);
        }
        catch (Exception e)
        {
            (failure, error) = (FailureKind.Error, $"{e.GetType().Name}: {e.Message}");
        }
        if (failure is null)
            counters.Completed();
        else
            counters.Failed();
        return new RequestResult(request.Index, request.AdapterId, request.InputLength, request.OutputLength, due, sent, first, now(),
            tokens, finish, failure, error);
    }

    private static RequestResult NotSent(TraceRequest request, double due, double now) =>
        new(request.Index, request.AdapterId, request.InputLength, request.OutputLength, due, null, null, now, 0, null,
            FailureKind.Cancelled, "not sent: the replay was cancelled first");

    private async Task SampleAsync(Func<double> now, ReplayCounters counters, PeakTracker peak, List<TimelineSample> timeline,
        int total, CancellationToken stop)
    {
        double nextProgress = _options.ProgressInterval.TotalSeconds;
        using var ticker = new PeriodicTimer(_options.SampleInterval);
        do
        {
            var memory = target.Snapshot();
            peak.Observe(memory);
            var sample = counters.Sample(now(), memory);
            timeline.Add(sample);
            if (_options.OnProgress is { } report && sample.Seconds >= nextProgress)
            {
                nextProgress += _options.ProgressInterval.TotalSeconds;
                report(new ReplayProgress(sample, total));
            }
        }
        while (await Tick(ticker, stop).ConfigureAwait(false));
    }

    private static async ValueTask<bool> Tick(PeriodicTimer ticker, CancellationToken stop)
    {
        try
        {
            return await ticker.WaitForNextTickAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The target's figures once its queues are empty (or after the settle timeout).</summary>
    private async Task<MemorySnapshot?> SettleAsync()
    {
        var deadline = Stopwatch.StartNew();
        var snapshot = target.Snapshot();
        while (snapshot is { Running: > 0 } or { Waiting: > 0 } && deadline.Elapsed < _options.SettleTimeout)
        {
            await Task.Delay(10).ConfigureAwait(false);
            snapshot = target.Snapshot();
        }
        return snapshot;
    }
}
