using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Placement;
using SLoRA.Grid.Errors;

namespace SLoRA.Grid.Placement;

/// <summary>
/// Picks the silo of a new adapter activation from this silo's <see cref="GpuStatusView"/>, never
/// by calling a grain: a placement hint naming a GPU silo (migration) wins; else a silo where the
/// adapter is warm, unless it is overloaded; else the GPU silo with the most headroom. Silos
/// without an engine are never chosen.
/// </summary>
public sealed class AdapterPlacementDirector(
    GpuStatusView view, LocalGpuStatus local, IOptions<GridPlacementOptions> options, ILogger<AdapterPlacementDirector> logger) : IPlacementDirector
{
    /// <inheritdoc/>
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var candidates = Candidates(context.GetCompatibleSilos(target));
        if (candidates.Count == 0)
            throw new NoGpuSiloAvailableException("No silo with a GPU engine has reported its status to this silo yet; retry shortly.");

        var adapterId = target.GrainIdentity.Key.ToString()!;
        SiloAddress chosen;
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, [.. candidates.Select(c => c.Silo)]) is { } hint)
        {
            chosen = hint;
        }
        else
        {
            var o = options.Value;
            var warm = candidates.Where(c => !c.Status.Overloaded
                && (c.Status.WarmAdapters.Contains(adapterId) || c.Status.ActiveAdapters.Contains(adapterId))).ToList();
            chosen = (Headroom.Best(warm, o) ?? Headroom.Best(candidates, o))!.Value.Silo;
        }
        view.NotePlacement(chosen);
        logger.LogDebug("Placing adapter {AdapterId} on {Silo}", adapterId, chosen);
        return Task.FromResult(chosen);
    }

    /// <summary>GPU silos among <paramref name="compatible"/>: this one fresh from its engine, the others from their last heartbeat.</summary>
    private List<PlacementCandidate> Candidates(SiloAddress[] compatible)
    {
        var list = new List<PlacementCandidate>(compatible.Length);
        foreach (var silo in compatible)
        {
            if (silo.Equals(local.Silo))
            {
                if (local.IsGpuSilo)
                    list.Add(new PlacementCandidate(local.Capture(), view.PendingOn(silo)));
            }
            else if (view.Get(silo) is { } known)
            {
                list.Add(known);
            }
        }
        return list;
    }
}
