using Orleans.Runtime.Placement;

namespace SLoRA.Grid.Placement;

/// <summary>
/// Puts a grain keyed by <see cref="GpuSiloKeys.For"/> on that silo; placement hints are ignored.
/// A silo address names one silo process for good (it carries the generation), so a grain whose
/// silo has left the cluster can never live there again: it is placed here instead, as an orphan
/// that only absorbs the stream events still queued for the departed silo. Refusing it would
/// leave the stream's pulling agent retrying that delivery, and stall every stream on its queue.
/// </summary>
public sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    /// <inheritdoc/>
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString()!;
        var silo = GpuSiloKeys.TryParse(key)
            ?? throw new ArgumentException($"'{key}' is not a silo address; a silo-pinned grain is keyed by GpuSiloKeys.For(silo).");
        var compatible = context.GetCompatibleSilos(target);
        if (compatible.Contains(silo))
            return Task.FromResult(silo);
        return Task.FromResult(compatible.Contains(context.LocalSilo) ? context.LocalSilo : compatible[0]);
    }
}
