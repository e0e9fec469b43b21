using SLoRA.Grid.Generation;
using SLoRA.Grid.Status;

namespace SLoRA.Grid;

/// <summary>
/// One per silo, keyed by <see cref="GpuSiloKeys.For"/> of the silo's address and placed on exactly
/// that silo. It is the Orleans face of the silo's engine: it publishes GPU status heartbeats,
/// feeds the silo's placement view from everyone's heartbeats, and reloads the silo's active
/// adapters when the catalog changes.
/// </summary>
public interface IGpuSiloGrain : IGrainWithStringKey
{
    /// <summary>Makes sure the grain is active (heartbeats and subscriptions running). Idempotent.</summary>
    Task StartAsync();

    /// <summary>
    /// Generates with the base model (no adapter) on this silo's engine; cancellation and errors
    /// as for <see cref="IAdapterGrain.GenerateAsync"/>. Throws <see cref="Errors.NoGpuSiloAvailableException"/> on a gateway.
    /// </summary>
    IAsyncEnumerable<TokenChunk> GenerateAsync(GenerateRequest request, CancellationToken cancellationToken = default);

    /// <summary>The silo's current GPU status, with every active and warm adapter id.</summary>
    Task<GpuSiloStatus> GetStatusAsync();

    /// <summary>
    /// Checks that an uploaded adapter loads and fits this silo's base model and rank limit;
    /// throws <see cref="Errors.AdapterRejectedException"/> when it does not. Gateways ask a GPU silo.
    /// </summary>
    Task CheckAdapterAsync(Catalog.AdapterUpload upload);
}

/// <summary>Keys of <see cref="IGpuSiloGrain"/>.</summary>
public static class GpuSiloKeys
{
    /// <summary>The key of the GPU grain of <paramref name="silo"/>.</summary>
    public static string For(SiloAddress silo) => silo.ToParsableString();

    /// <summary>The silo a key names; null when the key is not a silo address.</summary>
    public static SiloAddress? TryParse(string key)
    {
        try
        {
            return SiloAddress.FromParsableString(key);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
