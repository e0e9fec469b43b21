using SLoRA.Engine.Runtime;

namespace SLoRA.Grid.Silo.Hosting;

/// <summary>How the silo finds the rest of the cluster.</summary>
public enum ClusteringMode
{
    /// <summary>One machine, no external store: the first silo is the primary (ports below).</summary>
    Localhost,
    /// <summary>Azure Table storage (Azurite locally): any number of silo processes and machines.</summary>
    AzureTable,
}

/// <summary>Where adapters are stored.</summary>
public enum AdapterStoreKind
{
    /// <summary>PEFT folders under <see cref="GridSiloSettings.AdapterRoot"/>.</summary>
    FileSystem,
    /// <summary>Azure Blob Storage (Azurite locally).</summary>
    Blob,
}

/// <summary>Where adapter weights come from.</summary>
public enum AdapterWeightsKind
{
    /// <summary>The PEFT folder's adapter_model.safetensors.</summary>
    Peft,
    /// <summary>Dummy weights of the shape in adapter_config.json (benchmarks, demos).</summary>
    Synthetic,
}

/// <summary>The silo's settings, bound from the configuration section "SLoRA:Grid" (appsettings.json, SLoRA__Grid__* variables, --SLoRA:Grid:* arguments).</summary>
public sealed class GridSiloSettings
{
    /// <summary>Configuration section.</summary>
    public const string Section = "SLoRA:Grid";

    /// <summary>How silos find each other.</summary>
    public ClusteringMode Clustering { get; set; } = ClusteringMode.Localhost;

    /// <summary>Orleans cluster id (silos with the same id form one cluster).</summary>
    public string ClusterId { get; set; } = "slora-dev";

    /// <summary>Orleans service id (stable across deployments).</summary>
    public string ServiceId { get; set; } = "slora-grid";

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Localhost clustering: the silo port of the primary silo (the first one started).</summary>
    public int PrimarySiloPort { get; set; } = 11111;

    /// <summary>Storage connection string for Azure Table clustering and the blob store.</summary>
    public string StorageConnectionString { get; set; } = "UseDevelopmentStorage=true";

    /// <summary>Where adapters are stored.</summary>
    public AdapterStoreKind AdapterStore { get; set; } = AdapterStoreKind.FileSystem;

    /// <summary>Root folder of the file-system store.</summary>
    public string AdapterRoot { get; set; } = "data/adapters";

    /// <summary>Blob container of the blob store.</summary>
    public string BlobContainer { get; set; } = "adapters";

    /// <summary>Prefix before every adapter id in the blob container.</summary>
    public string BlobPrefix { get; set; } = "";

    /// <summary>Peft reads adapter_model.safetensors; Synthetic makes dummy weights of the configured shape (benchmarks).</summary>
    public AdapterWeightsKind AdapterWeights { get; set; } = AdapterWeightsKind.Peft;

    /// <summary>
    /// Sample adapters written on first run (file-system store, synthetic demo model, no adapter
    /// under <see cref="AdapterRoot"/> yet), so that a fresh silo has adapters to call; 0 writes none.
    /// </summary>
    public int SampleAdapters { get; set; } = 3;

    /// <summary>The engine.</summary>
    public EngineSettings Engine { get; set; } = new();

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        foreach (var (name, port) in new[] { (nameof(SiloPort), SiloPort), (nameof(GatewayPort), GatewayPort), (nameof(PrimarySiloPort), PrimarySiloPort) })
        {
            if (port is < 1 or > 65535)
                throw new ArgumentOutOfRangeException(name, port, "must be a TCP port");
        }
        if (SampleAdapters is < 0 or > 100)
            throw new ArgumentOutOfRangeException(nameof(SampleAdapters), SampleAdapters, "must be in [0, 100]");
        if (string.IsNullOrWhiteSpace(ClusterId) || string.IsNullOrWhiteSpace(ServiceId))
            throw new ArgumentException("ClusterId and ServiceId must not be empty.");
        if ((Clustering == ClusteringMode.AzureTable || AdapterStore == AdapterStoreKind.Blob) && string.IsNullOrWhiteSpace(StorageConnectionString))
            throw new ArgumentException("Azure Table clustering and the blob store need StorageConnectionString.");
    }
}

/// <summary>The engine part of <see cref="GridSiloSettings"/>.</summary>
public sealed class EngineSettings
{
    /// <summary>False for a gateway silo without a GPU.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A Hugging Face Llama folder; empty runs the small synthetic demo model.</summary>
    public string? ModelFolder { get; set; }

    /// <summary>Auto, Cuda or Cpu.</summary>
    public AcceleratorPreference Accelerator { get; set; } = AcceleratorPreference.Auto;

    /// <summary>CUDA device index (one silo per GPU).</summary>
    public int DeviceIndex { get; set; }

    /// <summary>Pages in the unified pool; 0 sizes it from free device memory.</summary>
    public int NumPages { get; set; } = 4096;

    /// <summary>Most tokens per step.</summary>
    public int MaxBatchTokens { get; set; } = 256;

    /// <summary>Most sequences per step.</summary>
    public int MaxBatchSequences { get; set; } = 64;

    /// <summary>Largest adapter rank served.</summary>
    public int MaxLoraRank { get; set; } = 64;

    /// <summary>Queue length beyond which requests are refused as overload.</summary>
    public int MaxWaitingRequests { get; set; } = 1024;

    /// <summary>
    /// Host memory the silo's registered adapters keep page-locked, so that loading one onto the
    /// GPU is a copy alone; null (the default): a quarter of the memory available to the process.
    /// </summary>
    public long? PinnedAdapterBytes { get; set; }
}
