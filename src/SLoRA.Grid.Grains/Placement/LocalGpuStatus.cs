using Microsoft.Extensions.Options;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Status;

namespace SLoRA.Grid.Placement;

/// <summary>This silo's own GPU status, read fresh from its engine (heartbeats, placement, migration checks).</summary>
public sealed class LocalGpuStatus(GpuEngineHost host, WarmAdapterCache warm, ILocalSiloDetails silo, IOptions<GridPlacementOptions> options)
{
    private long _sequence;

    /// <summary>This silo.</summary>
    public SiloAddress Silo => silo.SiloAddress;

    /// <summary>Whether this silo serves adapters (its engine has started).</summary>
    public bool IsGpuSilo => host.Engine is not null;

    /// <summary>
    /// A snapshot of the engine's state, listing at most <paramref name="maxIds"/> active and warm
    /// adapter ids. <paramref name="advance"/> gives it the next heartbeat sequence number.
    /// </summary>
    public GpuSiloStatus Capture(int maxIds = int.MaxValue, bool advance = false)
    {
        long sequence = advance ? Interlocked.Increment(ref _sequence) : Volatile.Read(ref _sequence);
        var engine = host.Engine;
        if (engine is null)
            return GpuSiloStatus.Gateway(Silo, sequence);
        var s = engine.GetStats();
        var status = new GpuSiloStatus
        {
            Silo = Silo,
            HasEngine = true,
            Sequence = sequence,
            Timestamp = DateTimeOffset.UtcNow,
            Device = engine.DeviceDescription,
            PagesTotal = s.PagesTotal,
            PagesFree = s.PagesFree,
            PagesKv = s.PagesKv,
            PagesAdapter = s.PagesAdapter,
            Running = s.Running,
            Waiting = s.Waiting,
            AdaptersRegistered = s.AdaptersRegistered,
            AdaptersResident = s.AdaptersResident,
            Steps = s.Steps,
            GeneratedTokens = s.GeneratedTokens,
            LastBatchAdapters = s.LastBatchAdapters,
            ActiveAdapters = [.. engine.AdapterIds.Order(StringComparer.Ordinal).Take(maxIds)],
            WarmAdapters = warm.Ids(maxIds),
        };
        return status with { Overloaded = Headroom.IsOverloaded(status, options.Value) };
    }
}
