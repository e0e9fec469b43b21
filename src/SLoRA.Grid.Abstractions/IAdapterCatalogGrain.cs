using SLoRA.Grid.Catalog;

namespace SLoRA.Grid;

/// <summary>
/// The adapter catalog: the store's adapters, uploads and deletions. A stateless worker (key
/// <see cref="GridNames.CatalogKey"/>) that runs beside the caller; changes are announced on the
/// catalog stream so that active adapter grains reload or unload.
/// </summary>
public interface IAdapterCatalogGrain : IGrainWithStringKey
{
    /// <summary>
    /// Writes a new version of an adapter and announces it. Throws
    /// <see cref="Errors.AdapterRejectedException"/> when the files are not a PEFT adapter that fits the base model.
    /// </summary>
    Task<AdapterInfo> RegisterAsync(AdapterUpload upload);

    /// <summary>Every adapter in the store.</summary>
    Task<IReadOnlyList<AdapterInfo>> ListAsync();

    /// <summary>One adapter's current version, or null when it does not exist.</summary>
    Task<AdapterInfo?> GetAsync(string adapterId);

    /// <summary>Deletes an adapter and announces it; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string adapterId);
}
