namespace SLoRA.LoadTests.Replay;

/// <summary>The replay's counters at one moment, sampled at a fixed interval for the plots.</summary>
/// <param name="Seconds">Replay wall clock.</param>
/// <param name="Sent">Requests sent so far.</param>
/// <param name="Completed">Requests completed so far.</param>
/// <param name="Failed">Requests failed so far.</param>
/// <param name="OutputTokens">Tokens received so far.</param>
/// <param name="Memory">The target's pages and queues, when it reports them.</param>
public sealed record TimelineSample(double Seconds, int Sent, int Completed, int Failed, long OutputTokens, MemorySnapshot? Memory)
{
    /// <summary>Requests sent and not yet finished.</summary>
    public int InFlight => Sent - Completed - Failed;
}
