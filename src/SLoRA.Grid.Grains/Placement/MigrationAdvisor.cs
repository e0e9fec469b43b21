using Microsoft.Extensions.Options;

namespace SLoRA.Grid.Placement;

/// <summary>
/// Decides whether an idle adapter should leave this silo: only when the silo is overloaded and
/// another GPU silo has at least <see cref="GridPlacementOptions.MigrationMinGain"/> more headroom,
/// and only one adapter per <see cref="GridPlacementOptions.MigrationCooldown"/>, so that load is
/// shed gradually instead of every adapter leaving at once.
/// </summary>
public sealed class MigrationAdvisor(LocalGpuStatus local, GpuStatusView view, TimeProvider time, IOptions<GridPlacementOptions> options)
{
    private long _lastMove = long.MinValue;

    /// <summary>The silo to move to, or null to stay. A non-null answer starts the cooldown.</summary>
    public SiloAddress? AdviseMove()
    {
        var o = options.Value;
        var self = local.Capture();
        if (!self.Overloaded)
            return null;
        double selfScore = Headroom.Score(new PlacementCandidate(self, 0), o);
        var roomier = view.Snapshot()
            .Where(c => !c.Silo.Equals(self.Silo) && !c.Status.Overloaded && Headroom.Score(c, o) >= selfScore + o.MigrationMinGain)
            .ToList();
        if (Headroom.Best(roomier, o) is not { } target || !TryStartCooldown(o.MigrationCooldown))
            return null;
        return target.Silo;
    }

    private bool TryStartCooldown(TimeSpan cooldown)
    {
        long now = time.GetTimestamp();
        long last = Volatile.Read(ref _lastMove);
        if (last != long.MinValue && time.GetElapsedTime(last, now) < cooldown)
            return false;
        return Interlocked.CompareExchange(ref _lastMove, now, last) == last;
    }
}
