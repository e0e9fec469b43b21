using SLoRA.Grid.Generation;
using SLoRA.Grid.Status;

namespace SLoRA.Grid;

/// <summary>
/// One LoRA adapter, keyed by its id. Its activation holds the adapter in host memory and
/// registered with the engine of the silo it lives on; its placement director picks that silo.
/// </summary>
public interface IAdapterGrain : IGrainWithStringKey
{
    /// <summary>
    /// Generates with this adapter, streaming tokens as they come. Cancelling
    /// <paramref name="cancellationToken"/> or leaving the enumeration early cancels the request on
    /// the engine and frees its pages. Throws <see cref="Errors.AdapterNotFoundException"/> for an
    /// unknown adapter (never the base model), <see cref="Errors.InvalidGenerationRequestException"/>
    /// for bad parameters, <see cref="Errors.GridOverloadedException"/> when the silo's queue is full.
    /// </summary>
    IAsyncEnumerable<TokenChunk> GenerateAsync(GenerateRequest request, CancellationToken cancellationToken = default);

    /// <summary>Where the adapter is active and which version it serves; activates it if needed.</summary>
    Task<AdapterActivationInfo> GetInfoAsync();

    /// <summary>Loads <paramref name="version"/> from the store if it is newer than the one served. Running requests finish on the old one.</summary>
    Task ReloadAsync(string version);

    /// <summary>Deactivates the adapter: unregisters it from the engine and frees its pages; <paramref name="keepWarm"/> keeps its weights in the silo's warm cache.</summary>
    Task UnloadAsync(bool keepWarm = true);
}
