using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Placement;
using Orleans.Streams;
using Orleans.Streams.Core;
using SLoRA.Grid.Catalog;
using SLoRA.Grid.Errors;
using SLoRA.Grid.Generation;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Placement;
using SLoRA.Grid.Status;

namespace SLoRA.Grid.Grains;

/// <summary>
/// The Orleans face of this silo's engine, pinned to the silo its key names. Every heartbeat
/// period it publishes the engine's status to every active silo's heartbeat stream; it feeds the
/// statuses it receives into this silo's <see cref="GpuStatusView"/>; and when the catalog
/// announces a new version or a deletion it reloads or unloads the adapter if it is active here.
/// Streams are keyed per receiving silo and subscribed implicitly, so no subscription state
/// outlives a silo.
/// </summary>
[SiloPinnedPlacement, Immovable, KeepAlive, Reentrant]
[ImplicitStreamSubscription(GridNames.GpuStatusNamespace)]
[ImplicitStreamSubscription(GridNames.AdapterCatalogNamespace)]
internal sealed class GpuSiloGrain(
    GpuEngineHost host, LocalGpuStatus local, GpuStatusView view, WarmAdapterCache warm, ActiveAdapterRegistry active, AdapterValidator validator,
    IClusterMembershipService membership, IOptions<GridPlacementOptions> options, ILogger<GpuSiloGrain> logger) : Grain, IGpuSiloGrain, IStreamSubscriptionObserver
{
    private IStreamProvider _streams = null!;
    private bool _orphan;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (this.GetPrimaryKeyString() != GpuSiloKeys.For(local.Silo))
        {
            // The silo this grain stands for has left the cluster (see SiloPinnedPlacementDirector).
            _orphan = true;
            logger.LogDebug("Absorbing events queued for departed silo {Key}", this.GetPrimaryKeyString());
            this.RegisterGrainTimer(_ =>
            {
                this.DeactivateOnIdle();
                return Task.CompletedTask;
            }, new GrainTimerCreationOptions(TimeSpan.FromMinutes(1), Timeout.InfiniteTimeSpan));
            return Task.CompletedTask;
        }
        _streams = this.GetStreamProvider(GridNames.StreamProvider);
        var period = options.Value.HeartbeatPeriod;
        this.RegisterGrainTimer(PublishHeartbeatAsync, new GrainTimerCreationOptions(TimeSpan.Zero, period) { Interleave = true, KeepAlive = true });
        return Task.CompletedTask;
    }

    public Task StartAsync() => Task.CompletedTask;

    public Task<GpuSiloStatus> GetStatusAsync() =>
        Task.FromResult(_orphan ? GpuSiloStatus.Gateway(GpuSiloKeys.TryParse(this.GetPrimaryKeyString())!, 0) : local.Capture());

    public async IAsyncEnumerable<TokenChunk> GenerateAsync(GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var engine = (_orphan ? null : host.Engine) ?? throw new NoGpuSiloAvailableException($"{local.Silo} runs no engine; ask a GPU silo for the base model.");
        await foreach (var chunk in EngineGeneration.StreamAsync(engine, request, adapterId: null, options.Value.OverloadRetryAfter, cancellationToken))
            yield return chunk;
    }

    public Task CheckAdapterAsync(AdapterUpload upload) => validator.CheckAsync(upload);

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory)
    {
        switch (handleFactory.StreamId.GetNamespace())
        {
            case GridNames.GpuStatusNamespace:
                await handleFactory.Create<GpuSiloStatus>().ResumeAsync(_orphan ? Drop : OnHeartbeatAsync);
                break;
            case GridNames.AdapterCatalogNamespace:
                await handleFactory.Create<AdapterCatalogEvent>().ResumeAsync(_orphan ? Drop : OnCatalogEventAsync);
                break;
        }
    }

    private async Task PublishHeartbeatAsync(CancellationToken cancellationToken)
    {
        var members = ActiveSilos();
        view.Retain(members);
        if (!local.IsGpuSilo)
            return;
        var status = local.Capture(options.Value.MaxAdapterIdsPerHeartbeat, advance: true);
        view.Update(status);
        var sends = members.Where(s => !s.Equals(local.Silo))
            .Select(s => _streams.GetStream<GpuSiloStatus>(StreamId.Create(GridNames.GpuStatusNamespace, GpuSiloKeys.For(s))).OnNextAsync(status));
        try
        {
            await Task.WhenAll(sends);
        }
        catch (Exception e)
        {
            logger.LogWarning("Heartbeat from {Silo} was not delivered everywhere: {Error}", local.Silo, e.Message);
        }
    }

    private static Task Drop<T>(T item, StreamSequenceToken? token) => Task.CompletedTask;

    private Task OnHeartbeatAsync(GpuSiloStatus status, StreamSequenceToken? token)
    {
        view.Update(status);
        return Task.CompletedTask;
    }

    private async Task OnCatalogEventAsync(AdapterCatalogEvent change, StreamSequenceToken? token)
    {
        warm.Evict(change.AdapterId, keepVersion: change.Version);
        // Only an activation serving another version is called: a call to one that just left would bring it back.
        var serving = active.VersionOf(change.AdapterId);
        if (serving is null || serving == change.Version)
            return;
        var adapter = GrainFactory.GetGrain<IAdapterGrain>(change.AdapterId);
        try
        {
            if (change.Kind == AdapterChangeKind.Deleted)
                await adapter.UnloadAsync(keepWarm: false);
            else if (change.Version is { } version)
                await adapter.ReloadAsync(version);
        }
        catch (Exception e)
        {
            logger.LogWarning("Adapter {AdapterId} did not take catalog change {Kind}: {Error}", change.AdapterId, change.Kind, e.Message);
        }
    }

    private HashSet<SiloAddress> ActiveSilos() =>
        [.. membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress)];
}
