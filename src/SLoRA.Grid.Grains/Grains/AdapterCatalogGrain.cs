using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Streams;
using SLoRA.Grid.Catalog;
using SLoRA.Grid.Errors;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Placement;
using SLoRA.Grid.Storage;

namespace SLoRA.Grid.Grains;

/// <summary>
/// The catalog, as a stateless worker beside its caller: writes and deletes go to the store and
/// are then announced to every active silo on its catalog stream. An upload is checked before it
/// is written — PEFT files present, loadable, and fitting this silo's base model when the silo
/// runs an engine — so a bad adapter is refused at registration rather than at first use. On a gateway the
/// check runs on a GPU silo, which knows the base model.
/// </summary>
[StatelessWorker]
internal sealed class AdapterCatalogGrain(
    IAdapterStore store, AdapterValidator validator, GpuEngineHost host, GpuStatusView view, IClusterMembershipService membership,
    ILogger<AdapterCatalogGrain> logger) : Grain, IAdapterCatalogGrain
{
    public async Task<AdapterInfo> RegisterAsync(AdapterUpload upload)
    {
        var id = upload?.AdapterId;
        if (upload is null || !AdapterIds.IsValid(id))
            throw new InvalidGenerationRequestException("adapter", AdapterIds.Describe(id));
        try
        {
            PeftFiles.ValidateUpload(upload.Files, long.MaxValue);
        }
        catch (ArgumentException e)
        {
            throw new AdapterRejectedException(upload.AdapterId, e.Message);
        }
        await CheckFitsAsync(upload);
        var info = await Guard(upload.AdapterId, () => store.PutAsync(upload.AdapterId, upload.Files));
        await AnnounceAsync(new AdapterCatalogEvent(info.AdapterId, AdapterChangeKind.Updated, info.Version));
        logger.LogInformation("Adapter {AdapterId} registered as version {Version} ({Bytes} bytes)", info.AdapterId, info.Version, info.SizeBytes);
        return info;
    }

    public Task<IReadOnlyList<AdapterInfo>> ListAsync() => Guard("", () => store.ListAsync());

    public Task<AdapterInfo?> GetAsync(string adapterId)
    {
        if (!AdapterIds.IsValid(adapterId))
            throw new InvalidGenerationRequestException("adapter", AdapterIds.Describe(adapterId));
        return Guard(adapterId, () => store.GetAsync(adapterId));
    }

    public async Task<bool> DeleteAsync(string adapterId)
    {
        if (!AdapterIds.IsValid(adapterId))
            throw new InvalidGenerationRequestException("adapter", AdapterIds.Describe(adapterId));
        bool existed = await Guard(adapterId, () => store.DeleteAsync(adapterId));
        if (existed)
            await AnnounceAsync(new AdapterCatalogEvent(adapterId, AdapterChangeKind.Deleted, null));
        return existed;
    }

    /// <summary>Checks the upload on this silo when it runs an engine, else on an active GPU silo from the placement view.</summary>
    private async Task CheckFitsAsync(AdapterUpload upload)
    {
        if (host.HasEngine)
        {
            await validator.CheckAsync(upload);
            return;
        }
        var active = ActiveSilos().ToHashSet();
        var gpus = view.Snapshot().Select(c => c.Silo).Where(active.Contains).OrderBy(_ => Random.Shared.Next()).ToList();
        foreach (var silo in gpus)
        {
            try
            {
                await GrainFactory.GetGrain<IGpuSiloGrain>(GpuSiloKeys.For(silo)).CheckAdapterAsync(upload);
                return;
            }
            catch (Exception e) when (e is not GridException)
            {
                // That silo is leaving or unreachable: ask the next one.
                logger.LogDebug("Silo {Silo} could not check adapter {AdapterId}: {Error}", silo, upload.AdapterId, e.Message);
            }
        }
        logger.LogWarning("No GPU silo could check adapter {AdapterId}; it is stored unchecked", upload.AdapterId);
    }

    private IEnumerable<SiloAddress> ActiveSilos() =>
        membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress);

    private async Task AnnounceAsync(AdapterCatalogEvent change)
    {
        var streams = this.GetStreamProvider(GridNames.StreamProvider);
        try
        {
            await Task.WhenAll(ActiveSilos().Select(s =>
                streams.GetStream<AdapterCatalogEvent>(StreamId.Create(GridNames.AdapterCatalogNamespace, GpuSiloKeys.For(s))).OnNextAsync(change)));
        }
        catch (Exception e)
        {
            // The store is already right; a silo that missed the event serves the old version until the adapter reactivates.
            logger.LogWarning("Catalog change of {AdapterId} was not announced everywhere: {Error}", change.AdapterId, e.Message);
        }
    }

    private static async Task<T> Guard<T>(string adapterId, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (AdapterStoreException e)
        {
            throw new AdapterStoreUnavailableException(adapterId, e.Message);
        }
        catch (ArgumentException e)
        {
            throw new AdapterRejectedException(adapterId, e.Message);
        }
    }
}
