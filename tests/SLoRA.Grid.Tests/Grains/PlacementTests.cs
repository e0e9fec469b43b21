using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Grains;

[Collection(GridCollection.Name)]
public sealed class PlacementTests(GridCluster grid)
{
    [Fact]
    public async Task Adapters_spread_over_the_gpu_silos_and_never_land_on_the_gateway()
    {
        var before = grid.GpuSilos.ToDictionary(s => s, s => grid.Engine(s).AdapterIds.Count);
        var placed = new List<SiloAddress>();
        for (int i = 0; i < 6; i++)
        {
            var id = $"spread-{i}";
            await grid.RegisterAsync(id);
            placed.Add((await grid.Client.LoadAdapterAsync(id)).Silo);
            // Let every silo's view see the new adapter before the next placement.
            await grid.WaitForViewsAsync(s => !s.Silo.Equals(placed[^1]) || s.ActiveAdapters.Contains(id), "the adapter in the heartbeats");
        }

        Assert.DoesNotContain(grid.Gateway, placed);
        Assert.All(placed, s => Assert.Contains(s, grid.GpuSilos));
        var after = grid.GpuSilos.ToDictionary(s => s, s => before[s] + placed.Count(p => p.Equals(s)));
        Assert.True(after.Values.Max() - after.Values.Min() <= 1, $"adapters per silo: {string.Join(", ", after.Values)}");
        Assert.Equal(grid.GpuSilos.Count, placed.Distinct().Count());
    }

    [Fact]
    public async Task A_warm_adapter_is_placed_back_where_it_is_warm()
    {
        var home = grid.GpuSilos[1];
        await grid.RegisterAsync("warm-a");
        await grid.LoadOnAsync("warm-a", home);
        // Make its home the fullest silo, so that headroom alone would send it elsewhere.
        for (int i = 0; i < 3; i++)
        {
            await grid.RegisterAsync($"warm-ballast-{i}");
            await grid.LoadOnAsync($"warm-ballast-{i}", home);
        }

        await grid.Client.UnloadAdapterAsync("warm-a");
        await GridCluster.WaitUntilAsync(() => !grid.Engine(home).HasAdapter("warm-a"), TimeSpan.FromSeconds(10), "warm-a to deactivate");
        await grid.WaitForViewsAsync(s => !s.Silo.Equals(home) || s.WarmAdapters.Contains("warm-a"), "warm-a in its home's heartbeat");
        var info = await grid.Client.LoadAdapterAsync("warm-a");

        Assert.Equal(home, info.Silo);
        Assert.True(info.FromWarmCache);
    }

    [Fact]
    public async Task The_gpu_grain_of_each_silo_lives_on_that_silo()
    {
        foreach (var silo in grid.Cluster.GetActiveSilos().Select(s => s.SiloAddress))
        {
            var status = await grid.Cluster.Client.GetGrain<IGpuSiloGrain>(GpuSiloKeys.For(silo)).GetStatusAsync();

            Assert.Equal(silo, status.Silo);
            Assert.Equal(!silo.Equals(grid.Gateway), status.HasEngine);
        }
    }

    [Fact]
    public async Task Cluster_status_lists_every_silo_with_its_adapters_and_pages()
    {
        await grid.RegisterAsync("status-a");
        var info = await grid.Client.LoadAdapterAsync("status-a");

        var status = await grid.Client.GetClusterStatusAsync();

        Assert.Equal(grid.Cluster.GetActiveSilos().Count(), status.Silos.Count);
        Assert.Equal(grid.GpuSilos.Count, status.GpuSilos.Count());
        Assert.Equal(info.Silo, status.WhereIs("status-a"));
        Assert.Equal(grid.GpuSilos.Count * 512, status.PagesTotal);
        Assert.Equal(status.PagesTotal, status.PagesFree + status.PagesKv + status.PagesAdapter);
    }
}
