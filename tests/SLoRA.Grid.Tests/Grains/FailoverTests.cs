using SLoRA.Grid.Generation;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Grains;

[Collection(GridCollection.Name)]
public sealed class FailoverTests(GridCluster grid)
{
    [Fact]
    public async Task After_its_silo_stops_an_adapter_is_served_by_a_new_activation_elsewhere()
    {
        var extra = await grid.Cluster.StartAdditionalSiloAsync();
        await grid.WaitForViewsAsync(what: "the new silo's heartbeats");
        await grid.RegisterAsync("failover-a");
        var first = await grid.LoadOnAsync("failover-a", extra.SiloAddress);
        Assert.Equal(extra.SiloAddress, first.Silo);
        var request = GenerateRequest.ForTokens(TinyModel.Prompt, new SamplingOptions { MaxNewTokens = 4, IgnoreEos = true });
        Assert.Equal(4, (await grid.Client.GenerateToEndAsync("failover-a", request)).TokenIds.Count);

        await grid.Cluster.StopSiloAsync(extra);

        var result = await grid.Client.GenerateToEndAsync("failover-a", request);
        Assert.Equal(4, result.TokenIds.Count);
        var second = await grid.Client.LoadAdapterAsync("failover-a");
        Assert.NotEqual(extra.SiloAddress, second.Silo);
        Assert.Contains(second.Silo, grid.GpuSilos);
    }

    [Fact]
    public async Task Events_for_a_departed_silo_do_not_stall_the_streams_of_the_others()
    {
        var extra = await grid.Cluster.StartAdditionalSiloAsync();
        await grid.WaitForViewsAsync(what: "the new silo's heartbeats");
        await grid.Cluster.StopSiloAsync(extra);

        // Heartbeats still reach every silo, and a catalog change reaches every GPU silo.
        await grid.WaitForViewsAsync(what: "heartbeats after the silo left");
        var adapters = new List<(string Id, SiloAddress Silo)>();
        foreach (var silo in grid.GpuSilos)
        {
            var id = $"failover-events-{adapters.Count}";
            await grid.RegisterAsync(id, rank: 4);
            await grid.LoadOnAsync(id, silo);
            adapters.Add((id, silo));
        }
        var versions = new Dictionary<string, string>();
        foreach (var (id, _) in adapters)
            versions[id] = (await grid.RegisterAsync(id, rank: 8)).Version;

        foreach (var (id, silo) in adapters)
        {
            await GridCluster.WaitUntilAsync(() => grid.Service<SLoRA.Grid.Hosting.ActiveAdapterRegistry>(silo).VersionOf(id) == versions[id],
                TimeSpan.FromSeconds(10), $"{id} to reload on {silo}");
        }
    }
}
