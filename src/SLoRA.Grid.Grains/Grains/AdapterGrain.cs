using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Runtime.Placement;
using SLoRA.Engine.Serving;
using SLoRA.Grid.Errors;
using SLoRA.Grid.Generation;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Placement;
using SLoRA.Grid.Status;

namespace SLoRA.Grid.Grains;

/// <summary>
/// One adapter. Activation loads it (warm cache or store) and registers it with this silo's
/// engine; deactivation unregisters it, freeing its device pages, and leaves the weights in the
/// warm cache. A failed activation (unknown id, unreachable store, unusable adapter) answers every
/// call with that error and deactivates, so the next call tries again.
/// </summary>
[AdapterPlacement, Reentrant]
internal sealed class AdapterGrain(
    GpuEngineHost host, AdapterFetcher fetcher, WarmAdapterCache warm, ActiveAdapterRegistry active, LocalGpuStatus local,
    MigrationAdvisor migration, IOptions<GridPlacementOptions> options, ILogger<AdapterGrain> logger) : Grain, IAdapterGrain
{
    private readonly SemaphoreSlim _loadLock = new(1, 1);
    private LoadedAdapter? _loaded;
    private GridException? _failure;
    private IGrainTimer? _overloadCheck;
    private int _inFlight;
    private int _reloads;
    private bool _keepWarm = true;

    private string AdapterId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await LoadAsync(deactivateOnFailure: false, cancellationToken);
        }
        catch (GridException)
        {
            // Logged; the first call tries again and reports it. Deactivating while activating would bounce that call.
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_loaded is not { } loaded)
            return;
        _loaded = null;
        active.Remove(AdapterId);
        if (host.Engine is { } engine)
        {
            try
            {
                await engine.UnregisterAdapterAsync(AdapterId).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            }
            catch (Exception e) when (e is ObjectDisposedException or TimeoutException or OperationCanceledException)
            {
                logger.LogWarning("Adapter {AdapterId} was not unregistered cleanly: {Error}", AdapterId, e.Message);
            }
        }
        if (_keepWarm)
            warm.Put(AdapterId, loaded.Info.Version, loaded.Weights);
        logger.LogInformation("Adapter {AdapterId} left {Silo}: {Reason}", AdapterId, local.Silo, reason.Description);
    }

    public async IAsyncEnumerable<TokenChunk> GenerateAsync(GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var engine = await EnsureServingAsync();
        _inFlight++;
        try
        {
            await foreach (var chunk in EngineGeneration.StreamAsync(engine, request, AdapterId, options.Value.OverloadRetryAfter, cancellationToken))
                yield return chunk;
        }
        finally
        {
            _inFlight--;
        }
    }

    public async Task<AdapterActivationInfo> GetInfoAsync()
    {
        await EnsureServingAsync();
        var loaded = _loaded!;
        return new AdapterActivationInfo(AdapterId, loaded.Info.Version, local.Silo, loaded.FromWarmCache, _reloads);
    }

    public async Task ReloadAsync(string version)
    {
        if (_loaded is null || _loaded.Info.Version == version)
            return;
        await _loadLock.WaitAsync();
        try
        {
            var current = _loaded;
            if (current is null)
                return;
            var engine = await host.GetEngineAsync();
            var info = await fetcher.CurrentAsync(AdapterId, CancellationToken.None);
            if (info.Version == current.Info.Version)
                return;
            var next = await fetcher.LoadAsync(info, engine.Config, host.Options.Engine.Runner.MaxLoraRank, CancellationToken.None);
            await RegisterAsync(engine, next);
            _loaded = next;
            _reloads++;
            logger.LogInformation("Adapter {AdapterId} reloaded: version {Old} -> {New}", AdapterId, current.Info.Version, info.Version);
        }
        finally
        {
            _loadLock.Release();
        }
    }

    public Task UnloadAsync(bool keepWarm = true)
    {
        _keepWarm = keepWarm;
        this.DeactivateOnIdle();
        return Task.CompletedTask;
    }

    private async Task<LoadedAdapter> LoadAndRegisterAsync(CancellationToken cancellationToken)
    {
        if (!AdapterIds.IsValid(AdapterId))
            throw new InvalidGenerationRequestException("adapter", AdapterIds.Describe(AdapterId));
        if (!host.HasEngine)
            throw new NoGpuSiloAvailableException($"adapter '{AdapterId}' was activated on {local.Silo}, which runs no engine.");
        var engine = await host.GetEngineAsync();
        var loaded = await fetcher.FetchCurrentAsync(AdapterId, engine.Config, host.Options.Engine.Runner.MaxLoraRank, cancellationToken);
        await RegisterAsync(engine, loaded);
        return loaded;
    }

    private async Task RegisterAsync(LlmEngine engine, LoadedAdapter loaded)
    {
        try
        {
            await engine.RegisterAdapterAsync(loaded.Weights);
            active.Set(AdapterId, loaded.Info.Version);
        }
        catch (ArgumentException e)
        {
            throw new AdapterRejectedException(AdapterId, e.Message);
        }
        catch (ObjectDisposedException)
        {
            throw new GridOverloadedException("this silo is shutting down; retry.", options.Value.OverloadRetryAfter);
        }
    }

    /// <summary>
    /// Loads and registers the adapter unless it is; on failure the error is kept for the log,
    /// thrown to the caller, and the activation goes, so that a later call starts afresh.
    /// </summary>
    private async Task LoadAsync(bool deactivateOnFailure, CancellationToken cancellationToken)
    {
        await _loadLock.WaitAsync(cancellationToken);
        try
        {
            if (_loaded is not null)
                return;
            try
            {
                _loaded = await LoadAndRegisterAsync(cancellationToken);
                _failure = null;
            }
            catch (GridException e)
            {
                if (_failure?.Message != e.Message)
                    logger.LogWarning("Adapter {AdapterId} cannot be served: {Error}", AdapterId, e.Message);
                _failure = e;
                if (deactivateOnFailure)
                    this.DeactivateOnIdle();
                throw;
            }
        }
        finally
        {
            _loadLock.Release();
        }
        logger.LogInformation("Adapter {AdapterId} version {Version} active on {Silo} ({Source})", AdapterId,
            _loaded.Info.Version, local.Silo, _loaded.FromWarmCache ? "warm cache" : "store");
        var period = options.Value.MigrationCheckPeriod;
        if (options.Value.EnableMigration && _overloadCheck is null)
            _overloadCheck = this.RegisterGrainTimer(CheckOverloadAsync, new GrainTimerCreationOptions(period, period) { Interleave = true, KeepAlive = false });
    }

    /// <summary>The engine to run on, once the adapter is registered with it.</summary>
    private async Task<LlmEngine> EnsureServingAsync()
    {
        if (_loaded is null)
            await LoadAsync(deactivateOnFailure: true, CancellationToken.None);
        return host.Engine ?? throw new GridOverloadedException("this silo is shutting down; retry.", options.Value.OverloadRetryAfter);
    }

    /// <summary>
    /// On an overloaded silo, an idle adapter moves to a GPU silo with clearly more headroom.
    /// Busy adapters stay until their streams end, so that no accepted request is cut.
    /// </summary>
    private Task CheckOverloadAsync(CancellationToken cancellationToken)
    {
        if (_loaded is null || _inFlight > 0 || migration.AdviseMove() is not { } target)
            return Task.CompletedTask;
        logger.LogInformation("Adapter {AdapterId} leaves overloaded {Silo} for {Target}", AdapterId, local.Silo, target);
        RequestContext.Set(IPlacementDirector.PlacementHintKey, target);
        this.MigrateOnIdle();
        RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        return Task.CompletedTask;
    }
}
