using SLoRA.Grid.Generation;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Grains;

[Collection(GridCollection.Name)]
public sealed class GenerationTests(GridCluster grid)
{
    [Fact]
    public async Task An_adapter_streams_tokens_from_a_gpu_silo()
    {
        await grid.RegisterAsync("gen-basic");

        var result = await grid.Client.GenerateToEndAsync("gen-basic",
            GenerateRequest.ForTokens(TinyModel.Prompt, new SamplingOptions { MaxNewTokens = 6, IgnoreEos = true }));

        Assert.Equal(6, result.TokenIds.Count);
        Assert.Equal(FinishReason.Length, result.FinishReason);
        var info = await grid.Client.LoadAdapterAsync("gen-basic");
        Assert.Contains(info.Silo, grid.GpuSilos);
        Assert.True(grid.Engine(info.Silo).HasAdapter("gen-basic"));
    }
}
