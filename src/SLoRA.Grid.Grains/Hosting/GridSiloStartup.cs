using Orleans.Runtime;

namespace SLoRA.Grid.Hosting;

/// <summary>Activates this silo's GPU grain as soon as the silo is active, so heartbeats flow before the first placement.</summary>
internal sealed class GridSiloStartup(IGrainFactory grains, ILocalSiloDetails silo) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe<GridSiloStartup>(ServiceLifecycleStage.Active, _ => grains.GetGrain<IGpuSiloGrain>(GpuSiloKeys.For(silo.SiloAddress)).StartAsync());
}
