namespace SLoRA.LoadTests.Replay;

/// <summary>A target's unified page pool and queues at one moment (one page holds one token's KV, or a slice of adapter weights).</summary>
/// <param name="PagesTotal">Pages in the pool.</param>
/// <param name="PagesFree">Free pages.</param>
/// <param name="PagesKv">Pages holding KV cache.</param>
/// <param name="PagesAdapter">Pages holding adapter weights.</param>
/// <param name="Running">Requests admitted.</param>
/// <param name="Waiting">Requests queued.</param>
public sealed record MemorySnapshot(int PagesTotal, int PagesFree, int PagesKv, int PagesAdapter, int Running, int Waiting)
{
    /// <summary>Pages in use.</summary>
    public int PagesUsed => PagesTotal - PagesFree;
}
