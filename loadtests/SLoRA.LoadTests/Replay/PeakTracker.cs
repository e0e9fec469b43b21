namespace SLoRA.LoadTests.Replay;

/// <summary>Keeps the snapshot with the most pages in use; safe to feed from any thread.</summary>
internal sealed class PeakTracker
{
    private readonly Lock _lock = new();
    private MemorySnapshot? _peak;

    /// <summary>The snapshot with the most pages in use so far, or null.</summary>
    public MemorySnapshot? Peak
    {
        get
        {
            lock (_lock)
                return _peak;
        }
    }

    /// <summary>Takes <paramref name="snapshot"/> into account.</summary>
    public void Observe(MemorySnapshot? snapshot)
    {
        if (snapshot is null)
            return;
        lock (_lock)
        {
            if (_peak is null || snapshot.PagesUsed > _peak.PagesUsed)
                _peak = snapshot;
        }
    }
}
