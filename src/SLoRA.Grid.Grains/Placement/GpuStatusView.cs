using System.Collections.Concurrent;
using SLoRA.Grid.Status;

namespace SLoRA.Grid.Placement;

/// <summary>
/// This silo's view of every GPU silo's status, fed by the heartbeat stream and read by the
/// placement director without any grain call. Between heartbeats the director counts the
/// adapters it placed on each silo, so a burst of activations does not all land on one silo.
/// </summary>
public sealed class GpuStatusView
{
    private readonly ConcurrentDictionary<SiloAddress, PlacementCandidate> _silos = new();

    /// <summary>Applies a heartbeat; older or repeated ones (by sequence) are ignored. Gateways are dropped.</summary>
    public void Update(GpuSiloStatus status)
    {
        if (!status.HasEngine)
        {
            _silos.TryRemove(status.Silo, out _);
            return;
        }
        _silos.AddOrUpdate(status.Silo, new PlacementCandidate(status, 0),
            (_, old) => status.Sequence > old.Status.Sequence ? new PlacementCandidate(status, 0) : old);
    }

    /// <summary>Counts an adapter placed on <paramref name="silo"/> until its next heartbeat.</summary>
    public void NotePlacement(SiloAddress silo) =>
        _silos.AddOrUpdate(silo, _ => default, (_, old) => old with { Pending = old.Pending + 1 });

    /// <summary>The last known state of <paramref name="silo"/>, when it runs an engine.</summary>
    public PlacementCandidate? Get(SiloAddress silo) =>
        _silos.TryGetValue(silo, out var c) && c.Status is not null ? c : null;

    /// <summary>Adapters placed on <paramref name="silo"/> since its last heartbeat.</summary>
    public int PendingOn(SiloAddress silo) => _silos.TryGetValue(silo, out var c) ? c.Pending : 0;

    /// <summary>Every GPU silo known.</summary>
    public IReadOnlyList<PlacementCandidate> Snapshot() => [.. _silos.Values.Where(c => c.Status is not null)];

    /// <summary>Forgets silos that are no longer members of the cluster.</summary>
    public void Retain(IReadOnlySet<SiloAddress> active)
    {
        foreach (var silo in _silos.Keys)
        {
            if (!active.Contains(silo))
                _silos.TryRemove(silo, out _);
        }
    }
}
