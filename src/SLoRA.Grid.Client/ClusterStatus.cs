using SLoRA.Grid.Status;

namespace SLoRA.Grid.Client;

/// <summary>The cluster at one moment: every active silo's GPU status.</summary>
/// <param name="Silos">Every active silo, GPU silos and gateways.</param>
public sealed record ClusterStatus(IReadOnlyList<GpuSiloStatus> Silos)
{
    /// <summary>The silos that run an engine.</summary>
    public IEnumerable<GpuSiloStatus> GpuSilos => Silos.Where(s => s.HasEngine);

    /// <summary>Pages in all pools.</summary>
    public long PagesTotal => GpuSilos.Sum(s => (long)s.PagesTotal);

    /// <summary>Free pages in all pools.</summary>
    public long PagesFree => GpuSilos.Sum(s => (long)s.PagesFree);

    /// <summary>KV-cache pages in all pools.</summary>
    public long PagesKv => GpuSilos.Sum(s => (long)s.PagesKv);

    /// <summary>Adapter pages in all pools.</summary>
    public long PagesAdapter => GpuSilos.Sum(s => (long)s.PagesAdapter);

    /// <summary>The silo where <paramref name="adapterId"/> is active, if any.</summary>
    public SiloAddress? WhereIs(string adapterId) => Silos.FirstOrDefault(s => s.ActiveAdapters.Contains(adapterId))?.Silo;
}
