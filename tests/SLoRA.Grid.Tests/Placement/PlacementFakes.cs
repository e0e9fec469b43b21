using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Placement;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Placement;
using SLoRA.Grid.Status;

namespace SLoRA.Grid.Tests.Placement;

/// <summary>Silos, statuses and a placement context, without a cluster.</summary>
internal static class PlacementFakes
{
    public static SiloAddress SiloNo(int n) => SiloAddress.New(IPAddress.Loopback, 11110 + n, 1);

    public static GpuSiloStatus Gpu(SiloAddress silo, long sequence = 1, int free = 1000, int adapters = 0, int waiting = 0,
        bool overloaded = false, IReadOnlyList<string>? warm = null) => new()
    {
        Silo = silo,
        HasEngine = true,
        Sequence = sequence,
        Timestamp = DateTimeOffset.UtcNow,
        PagesTotal = 1000,
        PagesFree = free,
        AdaptersRegistered = adapters,
        Waiting = waiting,
        Overloaded = overloaded,
        WarmAdapters = warm ?? [],
    };

    public static PlacementTarget Target(string adapterId, SiloAddress? hint = null) =>
        new(GrainId.Create("adapter", adapterId),
            hint is null ? [] : new Dictionary<string, object> { [IPlacementDirector.PlacementHintKey] = hint },
            default, 0);

    /// <summary>A director on <paramref name="local"/> (a gateway: no engine) over <paramref name="view"/>.</summary>
    public static AdapterPlacementDirector Director(GpuStatusView view, SiloAddress local)
    {
        var host = new GpuEngineHost(Options.Create(new GpuEngineOptions { Enabled = false }), NullLogger<GpuEngineHost>.Instance);
        var warm = new WarmAdapterCache(Options.Create(new WarmCacheOptions()));
        var localStatus = new LocalGpuStatus(host, warm, new LocalSilo(local), Options.Create(new GridPlacementOptions()));
        return new AdapterPlacementDirector(view, localStatus, Options.Create(new GridPlacementOptions()), NullLogger<AdapterPlacementDirector>.Instance);
    }

    public sealed class Context(SiloAddress local, params SiloAddress[] compatible) : IPlacementContext
    {
        public SiloAddress LocalSilo => local;

        public SiloStatus LocalSiloStatus => SiloStatus.Active;

        public SiloAddress[] GetCompatibleSilos(PlacementTarget target) => compatible;

        public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) =>
            new Dictionary<ushort, SiloAddress[]> { [0] = compatible };
    }

    private sealed class LocalSilo(SiloAddress silo) : ILocalSiloDetails
    {
        public string Name => "test";

        public string ClusterId => "test";

        public string DnsHostName => "localhost";

        public SiloAddress SiloAddress => silo;

        public SiloAddress GatewayAddress => silo;
    }
}
