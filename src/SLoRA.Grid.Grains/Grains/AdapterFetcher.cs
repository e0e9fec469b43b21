using Microsoft.Extensions.Logging;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Model;
using SLoRA.Grid.Catalog;
using SLoRA.Grid.Errors;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Storage;

namespace SLoRA.Grid.Grains;

/// <summary>An adapter in host memory, and where it came from.</summary>
internal sealed record LoadedAdapter(AdapterInfo Info, LoraAdapter Weights, bool FromWarmCache);

/// <summary>
/// Brings an adapter from the store (or this silo's warm cache) into host memory, turning every
/// failure into the error a caller should see: unknown id, unreachable store, unusable files.
/// </summary>
internal sealed class AdapterFetcher(IAdapterStore store, IAdapterLoader loader, WarmAdapterCache warm, ILogger<AdapterFetcher> logger)
{
    /// <summary>The adapter's current version in the store; throws <see cref="AdapterNotFoundException"/> when there is none.</summary>
    public async Task<AdapterInfo> CurrentAsync(string adapterId, CancellationToken cancellationToken)
    {
        try
        {
            return await store.GetAsync(adapterId, cancellationToken).ConfigureAwait(false)
                ?? throw new AdapterNotFoundException(adapterId);
        }
        catch (AdapterStoreException e)
        {
            throw new AdapterStoreUnavailableException(adapterId, e.Message);
        }
    }

    /// <summary>
    /// The adapter's current version in host memory. When the store cannot be reached but this
    /// silo holds the adapter warm, the warm copy is served (possibly an older version) rather
    /// than an error; a catalog event reloads it once the store is back.
    /// </summary>
    public async Task<LoadedAdapter> FetchCurrentAsync(string adapterId, LlamaConfig baseConfig, int maxRank, CancellationToken cancellationToken)
    {
        AdapterInfo info;
        try
        {
            info = await CurrentAsync(adapterId, cancellationToken).ConfigureAwait(false);
        }
        catch (AdapterStoreUnavailableException e) when (warm.TakeAny(adapterId) is { } held)
        {
            logger.LogWarning("Serving adapter {AdapterId} version {Version} from the warm cache: {Error}", adapterId, held.Version, e.Reason);
            var fallback = new AdapterInfo(adapterId, held.Version, WarmAdapterCache.SizeOf(held.Adapter), DateTimeOffset.MinValue);
            return new LoadedAdapter(fallback, held.Adapter, FromWarmCache: true);
        }
        return await LoadAsync(info, baseConfig, maxRank, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loads <paramref name="info"/>'s version for a model of <paramref name="baseConfig"/>.</summary>
    public async Task<LoadedAdapter> LoadAsync(AdapterInfo info, LlamaConfig baseConfig, int maxRank, CancellationToken cancellationToken)
    {
        if (warm.TryTake(info.AdapterId, info.Version) is { } cached)
            return new LoadedAdapter(info, cached, FromWarmCache: true);
        string? folder;
        try
        {
            folder = await store.MaterializeAsync(info, cancellationToken).ConfigureAwait(false);
        }
        catch (AdapterStoreException e)
        {
            throw new AdapterStoreUnavailableException(info.AdapterId, e.Message);
        }
        if (folder is null)
        {
            // The version was replaced or deleted since it was looked up: take the newest one.
            var latest = await CurrentAsync(info.AdapterId, cancellationToken).ConfigureAwait(false);
            return latest.Version == info.Version
                ? throw new AdapterStoreUnavailableException(info.AdapterId, $"version {info.Version} is listed but its files are missing.")
                : await LoadAsync(latest, baseConfig, maxRank, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            // Parsing and converting weights is CPU work: keep it off the grain's scheduler.
            var weights = await Task.Run(() => loader.Load(folder, baseConfig, maxRank, info.AdapterId), cancellationToken).ConfigureAwait(false);
            return new LoadedAdapter(info, weights, FromWarmCache: false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new AdapterRejectedException(info.AdapterId, e.Message);
        }
    }
}
