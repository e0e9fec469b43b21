namespace SLoRA.Grid;

/// <summary>Names shared by silos and clients: the stream provider and its namespaces.</summary>
public static class GridNames
{
    /// <summary>The Orleans stream provider that carries cluster events.</summary>
    public const string StreamProvider = "slora";

    /// <summary>Stream namespace of GPU status heartbeats (one stream, key <see cref="AllKey"/>).</summary>
    public const string GpuStatusNamespace = "slora.gpu-status";

    /// <summary>Stream namespace of adapter catalog changes (one stream, key <see cref="AllKey"/>).</summary>
    public const string AdapterCatalogNamespace = "slora.adapter-catalog";

    /// <summary>Key of the cluster-wide streams.</summary>
    public const string AllKey = "all";

    /// <summary>Key of the adapter catalog grain.</summary>
    public const string CatalogKey = "catalog";
}
