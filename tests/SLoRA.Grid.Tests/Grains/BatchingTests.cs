using SLoRA.Grid.Generation;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Grains;

[Collection(GridCollection.Name)]
public sealed class BatchingTests(GridCluster grid)
{
    [Fact]
    public async Task Requests_for_two_adapters_on_one_silo_share_a_batch()
    {
        var silo = grid.GpuSilos[0];
        var engine = grid.Engine(silo);
        await grid.RegisterAsync("batch-a", rank: 4);
        await grid.RegisterAsync("batch-b", rank: 8);
        await grid.LoadOnAsync("batch-a", silo);
        await grid.LoadOnAsync("batch-b", silo);
        long stepsBefore = engine.GetStats().Steps;
        int mostAdaptersInAStep = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                mostAdaptersInAStep = Math.Max(mostAdaptersInAStep, engine.GetStats().LastBatchAdapters);
                await Task.Delay(1);
            }
        });

        var request = GenerateRequest.ForTokens(TinyModel.Prompt, new SamplingOptions { MaxNewTokens = 24, IgnoreEos = true });
        var results = await Task.WhenAll(
            grid.Client.GenerateToEndAsync("batch-a", request),
            grid.Client.GenerateToEndAsync("batch-b", request));
        await sampling.CancelAsync();
        await sampler;

        Assert.All(results, r => Assert.Equal(24, r.TokenIds.Count));
        Assert.True(mostAdaptersInAStep >= 2, $"at most {mostAdaptersInAStep} adapter(s) were seen in one step");
        // Batched together, the two requests took fewer steps than run one after the other.
        Assert.True(engine.GetStats().Steps - stepsBefore < 2 * 25, $"{engine.GetStats().Steps - stepsBefore} steps");
    }
}
