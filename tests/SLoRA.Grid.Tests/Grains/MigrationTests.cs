using SLoRA.Grid.Generation;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Grains;

[Collection(GridCollection.Name)]
public sealed class MigrationTests(GridCluster grid)
{
    [Fact]
    public async Task An_idle_adapter_leaves_an_overloaded_silo_for_one_with_room()
    {
        var crowded = grid.GpuSilos[2];
        var engine = grid.Engine(crowded);
        await grid.RegisterAsync("move-calm");
        await grid.RegisterAsync("move-hot");
        await grid.LoadOnAsync("move-calm", crowded);
        await grid.LoadOnAsync("move-hot", crowded);

        // Flood the silo: 4 run at a time, the rest wait, past the overload threshold of 3 waiting.
        using var flood = new CancellationTokenSource();
        var request = GenerateRequest.ForTokens(TinyModel.Prompt, new SamplingOptions { MaxNewTokens = 200, IgnoreEos = true });
        var streams = Enumerable.Range(0, 10).Select(_ => Drain(grid.Client.GenerateAsync("move-hot", request, flood.Token))).ToList();
        try
        {
            await GridCluster.WaitUntilAsync(() => engine.GetStats().Waiting >= 3, TimeSpan.FromSeconds(10), "the silo to be overloaded");

            await GridCluster.WaitUntilAsync(() => !engine.HasAdapter("move-calm"), TimeSpan.FromSeconds(15), "move-calm to leave the overloaded silo");
            var moved = await grid.Client.LoadAdapterAsync("move-calm");
            Assert.NotEqual(crowded, moved.Silo);
            Assert.Contains(moved.Silo, grid.GpuSilos);
            // The busy adapter keeps serving its accepted requests where it is.
            Assert.True(engine.HasAdapter("move-hot"));
        }
        finally
        {
            await flood.CancelAsync();
            await Task.WhenAll(streams);
        }
        await GridCluster.WaitUntilAsync(() => engine.GetStats() is { Running: 0, Waiting: 0, PagesKv: 0 }, TimeSpan.FromSeconds(10), "the flood to drain");
    }

    private static async Task Drain(IAsyncEnumerable<TokenChunk> tokens)
    {
        try
        {
            await foreach (var _ in tokens)
            {
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
