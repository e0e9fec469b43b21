using SLoRA.Grid.Catalog;

namespace SLoRA.Grid.Storage;

/// <summary>
/// Where adapters live while no silo holds them: PEFT folders (adapter_config.json +
/// adapter_model.safetensors) under an id, each write a new version. Implementations throw
/// <see cref="AdapterStoreException"/> when the backing store cannot be reached, and
/// <see cref="ArgumentException"/> for an invalid id or upload.
/// </summary>
public interface IAdapterStore
{
    /// <summary>The adapter's current version, or null when it does not exist.</summary>
    Task<AdapterInfo?> GetAsync(string adapterId, CancellationToken cancellationToken = default);

    /// <summary>Every adapter, ordered by id.</summary>
    Task<IReadOnlyList<AdapterInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// A local folder holding the PEFT files of <paramref name="adapter"/>'s version (downloaded
    /// into a cache when the store is remote); null when that version is gone.
    /// </summary>
    Task<string?> MaterializeAsync(AdapterInfo adapter, CancellationToken cancellationToken = default);

    /// <summary>Writes a new version from file name → bytes; readers see the old or the new version, never a mix.</summary>
    Task<AdapterInfo> PutAsync(string adapterId, IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken = default);

    /// <summary>Deletes every version; false when the adapter did not exist.</summary>
    Task<bool> DeleteAsync(string adapterId, CancellationToken cancellationToken = default);
}
