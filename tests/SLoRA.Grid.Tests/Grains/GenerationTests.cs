using SLoRA.Grid.Errors;
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

    [Fact]
    public async Task The_base_model_is_served_without_an_adapter_by_a_gpu_silo()
    {
        var tokens = new List<int>();
        await foreach (var chunk in grid.Client.GenerateBaseAsync(
            GenerateRequest.ForTokens(TinyModel.Prompt, new SamplingOptions { MaxNewTokens = 5, IgnoreEos = true })))
            tokens.Add(chunk.TokenId);

        Assert.Equal(5, tokens.Count);
    }

    [Fact]
    public async Task A_gateway_refuses_base_model_requests()
    {
        var gateway = grid.Cluster.Client.GetGrain<IGpuSiloGrain>(GpuSiloKeys.For(grid.Gateway));

        await Assert.ThrowsAsync<NoGpuSiloAvailableException>(async () =>
        {
            await foreach (var _ in gateway.GenerateAsync(GenerateRequest.ForTokens(TinyModel.Prompt)))
            {
            }
        });
    }

    [Fact]
    public async Task Text_whose_tokens_the_model_cannot_embed_is_refused_and_the_silo_serves_on()
    {
        // The tiny model's vocabulary (512) is smaller than its GPT-2 tokenizer's.
        await grid.RegisterAsync("gen-text");

        var error = await Assert.ThrowsAsync<InvalidGenerationRequestException>(() => grid.Client.GenerateToEndAsync("gen-text", GenerateRequest.ForText("hello world")));

        Assert.Equal("prompt", error.Parameter);
        Assert.NotEmpty((await grid.Client.GenerateToEndAsync("gen-text", GenerateRequest.ForTokens(TinyModel.Prompt, SamplingOptions.Greedy(2)))).TokenIds);
    }
}
