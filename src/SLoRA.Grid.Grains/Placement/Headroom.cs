using SLoRA.Grid.Status;

namespace SLoRA.Grid.Placement;

/// <summary>A GPU silo as a placement candidate: its last status and the placements made on it since.</summary>
/// <param name="Status">The freshest status known.</param>
/// <param name="Pending">Adapters this silo's director placed there since that status was taken.</param>
public readonly record struct PlacementCandidate(GpuSiloStatus Status, int Pending)
{
    /// <summary>The candidate's silo.</summary>
    public SiloAddress Silo => Status.Silo;
}

/// <summary>
/// How much room a GPU silo has, as one number: the free fraction of its page pool, less a cost
/// per active adapter, per waiting and per running request. Higher is better.
/// </summary>
public static class Headroom
{
    /// <summary>The candidate's headroom.</summary>
    public static double Score(PlacementCandidate c, GridPlacementOptions o) =>
        c.Status.FreeFraction
        - o.AdapterWeight * (c.Status.AdaptersRegistered + c.Pending)
        - o.QueueWeight * c.Status.Waiting
        - o.RunningWeight * c.Status.Running;

    /// <summary>Whether a silo's queue or pool is past the thresholds.</summary>
    public static bool IsOverloaded(GpuSiloStatus s, GridPlacementOptions o) =>
        s.HasEngine && (s.Waiting >= o.OverloadWaitingRequests || (s.PagesTotal > 0 && s.FreeFraction < o.OverloadFreeFraction));

    /// <summary>
    /// The candidate with the most headroom among those not overloaded (all of them when every
    /// one is); ties go to a random one, so that silos placing at once do not all pick the same.
    /// Null when there are none.
    /// </summary>
    public static PlacementCandidate? Best(IReadOnlyList<PlacementCandidate> candidates, GridPlacementOptions o)
    {
        if (candidates.Count == 0)
            return null;
        var pool = candidates.Where(c => !c.Status.Overloaded).ToList();
        if (pool.Count == 0)
            pool = [.. candidates];
        double best = pool.Max(c => Score(c, o));
        var top = pool.Where(c => Score(c, o) >= best - 1e-9).ToList();
        return top[Random.Shared.Next(top.Count)];
    }
}
