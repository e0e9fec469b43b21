namespace SLoRA.LoadTests.Replay;

/// <summary>Live counters of a replay, bumped by request tasks and read by the sampler.</summary>
internal sealed class ReplayCounters
{
    private int _sent, _completed, _failed;
    private long _outputTokens;

    public void Sent() => Interlocked.Increment(ref _sent);

    public void Completed() => Interlocked.Increment(ref _completed);

    public void Failed() => Interlocked.Increment(ref _failed);

    public void Token() => Interlocked.Increment(ref _outputTokens);

    public TimelineSample Sample(double seconds, MemorySnapshot? memory) =>
        new(seconds, Volatile.Read(ref _sent), Volatile.Read(ref _completed), Volatile.Read(ref _failed), Interlocked.Read(ref _outputTokens), memory);
}
