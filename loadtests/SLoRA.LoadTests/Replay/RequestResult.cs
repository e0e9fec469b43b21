namespace SLoRA.LoadTests.Replay;

/// <summary>
/// What happened to one request of the trace. Times are seconds of replay wall clock, from the
/// start of the replay; latencies are measured from the moment the request was sent.
/// </summary>
/// <param name="Index">Its index in the trace.</param>
/// <param name="AdapterId">Its adapter.</param>
/// <param name="InputLength">Prompt tokens.</param>
/// <param name="OutputLength">Tokens asked for.</param>
/// <param name="DueSeconds">When the (time-scaled) trace said to send it.</param>
/// <param name="SentSeconds">When it was sent; null if it never was.</param>
/// <param name="FirstTokenSeconds">When its first token arrived.</param>
/// <param name="FinishedSeconds">When its stream ended or it failed.</param>
/// <param name="OutputTokens">Tokens received.</param>
/// <param name="FinishReason">The target's finish reason.</param>
/// <param name="Failure">Why it failed; null when it completed.</param>
/// <param name="Error">The failure's message.</param>
public sealed record RequestResult(int Index, string? AdapterId, int InputLength, int OutputLength, double DueSeconds,
    double? SentSeconds, double? FirstTokenSeconds, double FinishedSeconds, int OutputTokens, string? FinishReason,
    FailureKind? Failure, string? Error)
{
    /// <summary>True when the request completed.</summary>
    public bool Completed => Failure is null;

    /// <summary>Seconds from sending to the first token.</summary>
    public double? FirstTokenLatency => FirstTokenSeconds - SentSeconds;

    /// <summary>Seconds from sending to the end of the stream.</summary>
    public double? Latency => FinishedSeconds - SentSeconds;

    /// <summary>How late it was sent, against the trace.</summary>
    public double? DispatchLag => SentSeconds - DueSeconds;
}
