using SLoRA.Grid.Placement;
using SLoRA.Grid.Status;
using static SLoRA.Grid.Tests.Placement.PlacementFakes;

namespace SLoRA.Grid.Tests.Placement;

public sealed class GpuStatusViewTests
{
    [Fact]
    public void An_older_heartbeat_does_not_replace_a_newer_one()
    {
        var view = new GpuStatusView();
        view.Update(Gpu(SiloNo(1), sequence: 5, free: 100));
        view.Update(Gpu(SiloNo(1), sequence: 4, free: 900));

        Assert.Equal(100, view.Get(SiloNo(1))!.Value.Status.PagesFree);
    }

    [Fact]
    public void Placements_count_until_the_next_heartbeat()
    {
        var view = new GpuStatusView();
        view.Update(Gpu(SiloNo(1), sequence: 1));
        view.NotePlacement(SiloNo(1));
        view.NotePlacement(SiloNo(1));
        Assert.Equal(2, view.PendingOn(SiloNo(1)));

        view.Update(Gpu(SiloNo(1), sequence: 2));

        Assert.Equal(0, view.PendingOn(SiloNo(1)));
    }

    [Fact]
    public void Gateways_and_departed_silos_are_dropped()
    {
        var view = new GpuStatusView();
        view.Update(Gpu(SiloNo(1)));
        view.Update(Gpu(SiloNo(2)));
        view.Update(GpuSiloStatus.Gateway(SiloNo(1), 9));
        view.Retain(new HashSet<SiloAddress> { SiloNo(3) });

        Assert.Empty(view.Snapshot());
    }

    [Fact]
    public void Headroom_prefers_free_pages_and_charges_adapters_and_queues()
    {
        var o = new GridPlacementOptions();
        double empty = Headroom.Score(new PlacementCandidate(Gpu(SiloNo(1)), 0), o);

        Assert.True(Headroom.Score(new PlacementCandidate(Gpu(SiloNo(1), free: 500), 0), o) < empty);
        Assert.True(Headroom.Score(new PlacementCandidate(Gpu(SiloNo(1), adapters: 3), 0), o) < empty);
        Assert.True(Headroom.Score(new PlacementCandidate(Gpu(SiloNo(1), waiting: 3), 0), o) < empty);
        Assert.True(Headroom.Score(new PlacementCandidate(Gpu(SiloNo(1)), 2), o) < empty);
        Assert.True(Headroom.IsOverloaded(Gpu(SiloNo(1), waiting: o.OverloadWaitingRequests), o));
        Assert.True(Headroom.IsOverloaded(Gpu(SiloNo(1), free: 10), o));
        Assert.False(Headroom.IsOverloaded(Gpu(SiloNo(1)), o));
    }
}
