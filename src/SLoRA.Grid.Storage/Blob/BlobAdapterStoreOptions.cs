using Azure.Storage.Blobs;

namespace SLoRA.Grid.Storage.Blob;

/// <summary>Where the Azure Blob store keeps adapters, and how it talks to the service.</summary>
public sealed class BlobAdapterStoreOptions
{
    /// <summary>A storage connection string (Azurite: "UseDevelopmentStorage=true" or an explicit endpoint).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>A ready service client (e.g. built with a managed-identity credential); wins over <see cref="ConnectionString"/>.</summary>
    public BlobServiceClient? ServiceClient { get; set; }

    /// <summary>The container holding the adapters.</summary>
    public string ContainerName { get; set; } = "adapters";

    /// <summary>A prefix before every adapter id (e.g. "prod/"), so that several fleets can share a container.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>The local folder versions are downloaded to before loading.</summary>
    public string CacheDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "slora-adapter-cache");

    /// <summary>Create the container when it is missing.</summary>
    public bool CreateContainerIfMissing { get; set; } = true;

    /// <summary>Retries of a failed request (the SDK's exponential back-off).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Timeout of one network operation.</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest upload accepted, in bytes.</summary>
    public long MaxUploadBytes { get; set; } = 2L << 30;

    /// <summary>Versions kept per adapter (the current one and those before it, for readers still downloading them).</summary>
    public int RetainedVersions { get; set; } = 2;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (ServiceClient is null && string.IsNullOrWhiteSpace(ConnectionString))
            throw new ArgumentException("the blob adapter store needs a connection string or a service client.", nameof(ConnectionString));
        if (string.IsNullOrWhiteSpace(ContainerName))
            throw new ArgumentException("the blob adapter store needs a container name.", nameof(ContainerName));
        if (Prefix.Length > 0 && (Prefix.StartsWith('/') || Prefix.Contains("//", StringComparison.Ordinal)))
            throw new ArgumentException($"prefix '{Prefix}' must not start with '/' or contain '//'.", nameof(Prefix));
        if (string.IsNullOrWhiteSpace(CacheDirectory))
            throw new ArgumentException("the blob adapter store needs a local cache folder.", nameof(CacheDirectory));
        if (MaxRetries < 0) throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "must not be negative");
        if (NetworkTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(NetworkTimeout), NetworkTimeout, "must be positive");
        if (MaxUploadBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxUploadBytes), MaxUploadBytes, "must be positive");
        if (RetainedVersions < 1) throw new ArgumentOutOfRangeException(nameof(RetainedVersions), RetainedVersions, "must be at least 1");
    }
}
