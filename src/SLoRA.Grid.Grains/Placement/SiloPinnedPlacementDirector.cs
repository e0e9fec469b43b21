using Orleans.Runtime.Placement;

namespace SLoRA.Grid.Placement;

/// <summary>Puts a grain keyed by <see cref="GpuSiloKeys.For"/> on that silo and nowhere else; placement hints are ignored.</summary>
public sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    /// <inheritdoc/>
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString()!;
        var silo = GpuSiloKeys.TryParse(key);
        if (silo is null)
            throw new ArgumentException($"'{key}' is not a silo address; a silo-pinned grain is keyed by GpuSiloKeys.For(silo).");
        if (!context.GetCompatibleSilos(target).Contains(silo))
            throw new InvalidOperationException($"The silo {silo} is not an active member of the cluster, so its pinned grain cannot be activated.");
        return Task.FromResult(silo);
    }
}
