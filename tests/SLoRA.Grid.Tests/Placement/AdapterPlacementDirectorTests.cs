using SLoRA.Grid.Errors;
using SLoRA.Grid.Placement;
using static SLoRA.Grid.Tests.Placement.PlacementFakes;

namespace SLoRA.Grid.Tests.Placement;

public sealed class AdapterPlacementDirectorTests
{
    private static readonly SiloAddress Gateway = SiloNo(0), A = SiloNo(1), B = SiloNo(2), C = SiloNo(3);

    private static async Task<SiloAddress> Place(GpuStatusView view, string adapterId, SiloAddress? hint = null) =>
        await Director(view, Gateway).OnAddActivation(AdapterPlacement.Instance, Target(adapterId, hint), new Context(Gateway, Gateway, A, B, C));

    [Fact]
    public async Task The_silo_with_most_headroom_wins_and_the_gateway_never()
    {
        var view = new GpuStatusView();
        view.Update(Gpu(A, free: 500));
        view.Update(Gpu(B, free: 900));
        view.Update(Gpu(C, free: 700));

        Assert.Equal(B, await Place(view, "x"));
    }

    [Fact]
    public async Task Placements_between_heartbeats_spread_over_equal_silos()
    {
        var view = new GpuStatusView();
        foreach (var s in new[] { A, B, C })
            view.Update(Gpu(s));

        var placed = new List<SiloAddress>();
        for (int i = 0; i < 6; i++)
            placed.Add(await Place(view, $"a{i}"));

        Assert.All(new[] { A, B, C }, s => Assert.Equal(2, placed.Count(p => p.Equals(s))));
    }

    [Fact]
    public async Task A_silo_holding_the_adapter_warm_wins_over_more_headroom()
    {
        var view = new GpuStatusView();
        view.Update(Gpu(A, free: 300, adapters: 5, warm: ["w"]));
        view.Update(Gpu(B, free: 1000));

        Assert.Equal(A, await Place(view, "w"));
        Assert.Equal(B, await Place(view, "other"));
    }

    [Fact]
    public async Task An_overloaded_warm_silo_is_passed_over()
    {
        var view = new GpuStatusView();
        view.Update(Gpu(A, warm: ["w"], waiting: 40, overloaded: true));
        view.Update(Gpu(B, free: 400));

        Assert.Equal(B, await Place(view, "w"));
    }

    [Fact]
    public async Task A_hint_naming_a_gpu_silo_wins_and_one_naming_the_gateway_is_ignored()
    {
        var view = new GpuStatusView();
        view.Update(Gpu(A, free: 1000));
        view.Update(Gpu(B, free: 100));

        Assert.Equal(B, await Place(view, "h", hint: B));
        Assert.Equal(A, await Place(view, "h", hint: Gateway));
    }

    [Fact]
    public async Task Without_a_known_gpu_silo_placement_fails_clearly()
    {
        await Assert.ThrowsAsync<NoGpuSiloAvailableException>(() => Place(new GpuStatusView(), "x"));
    }

    [Fact]
    public async Task A_silo_that_left_the_cluster_is_not_chosen()
    {
        var view = new GpuStatusView();
        var gone = SiloNo(9);
        view.Update(Gpu(gone, free: 1000));
        view.Update(Gpu(A, free: 10));

        Assert.Equal(A, await Place(view, "x"));
    }
}

public sealed class SiloPinnedPlacementDirectorTests
{
    private static readonly SiloAddress Local = SiloNo(0), Other = SiloNo(1), Departed = SiloNo(9);

    private static Task<SiloAddress> Place(SiloAddress key) =>
        new SiloPinnedPlacementDirector().OnAddActivation(SiloPinnedPlacement.Instance,
            new Orleans.Runtime.Placement.PlacementTarget(GrainId.Create("gpusilo", GpuSiloKeys.For(key)), [], default, 0),
            new Context(Local, Local, Other));

    [Fact]
    public async Task A_silo_grain_lives_on_its_own_silo() => Assert.Equal(Other, await Place(Other));

    [Fact]
    public async Task The_grain_of_a_departed_silo_becomes_a_local_orphan() => Assert.Equal(Local, await Place(Departed));
}
