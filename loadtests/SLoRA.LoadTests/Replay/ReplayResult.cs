using SLoRA.LoadTests.Reporting;

namespace SLoRA.LoadTests.Replay;

/// <summary>Everything a replay produced: the summary, each request's outcome and the sampled timeline.</summary>
/// <param name="Report">The summary, as written to report.json.</param>
/// <param name="Requests">One result per trace request, in trace order.</param>
/// <param name="Timeline">Counters and pages sampled over the run.</param>
public sealed record ReplayResult(ReplayReport Report, IReadOnlyList<RequestResult> Requests, IReadOnlyList<TimelineSample> Timeline);
