namespace SLoRA.Grid.Storage.FileSystem;

/// <summary>Where the file-system store keeps its PEFT folders.</summary>
public sealed class FileSystemAdapterStoreOptions
{
    /// <summary>The folder holding one PEFT folder per adapter id (root/&lt;id&gt;/adapter_config.json ...).</summary>
    public string Root { get; set; } = "adapters";

    /// <summary>Largest upload accepted, in bytes.</summary>
    public long MaxUploadBytes { get; set; } = 2L << 30;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Root))
            throw new ArgumentException("the file-system adapter store needs a root folder.", nameof(Root));
        if (MaxUploadBytes < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxUploadBytes), MaxUploadBytes, "must be positive");
    }
}
