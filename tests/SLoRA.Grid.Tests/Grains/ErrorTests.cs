using SLoRA.Grid.Errors;
using SLoRA.Grid.Generation;
using SLoRA.Grid.Storage;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Grains;

[Collection(GridCollection.Name)]
public sealed class ErrorTests(GridCluster grid)
{
    private static GenerateRequest Short => GenerateRequest.ForTokens(TinyModel.Prompt, SamplingOptions.Greedy(4));

    [Fact]
    public async Task An_unknown_adapter_is_an_error_never_the_base_model()
    {
        var error = await Assert.ThrowsAsync<AdapterNotFoundException>(() => grid.Client.GenerateToEndAsync("err-nobody", Short));

        Assert.Equal("err-nobody", error.AdapterId);
        Assert.Contains("'err-nobody' does not exist", error.Message);
        Assert.All(grid.GpuSilos, s => Assert.False(grid.Engine(s).HasAdapter("err-nobody")));
    }

    [Fact]
    public async Task An_adapter_registered_after_a_miss_is_found()
    {
        await Assert.ThrowsAsync<AdapterNotFoundException>(() => grid.Client.GenerateToEndAsync("err-late", Short));
        await grid.RegisterAsync("err-late");

        var result = await grid.Client.GenerateToEndAsync("err-late", Short);

        Assert.NotEmpty(result.TokenIds);
    }

    [Fact]
    public async Task An_adapter_above_the_rank_limit_is_refused_at_registration()
    {
        var error = await Assert.ThrowsAsync<AdapterRejectedException>(() => grid.RegisterAsync("err-rank-upload", rank: TinyModel.MaxLoraRank * 2));

        Assert.Contains("rank", error.Reason);
        Assert.Null(await grid.Client.GetAdapterAsync("err-rank-upload"));
    }

    [Fact]
    public async Task An_adapter_the_engine_refuses_is_a_clear_error_and_the_silo_serves_others()
    {
        // Written to the store directly, past the catalog's check: the engine's own validation refuses it.
        PeftFolders.Write(Path.Combine(grid.StoreRoot, "err-rank-direct"), TinyModel.Config, rank: TinyModel.MaxLoraRank * 2);
        await grid.RegisterAsync("err-neighbour");
        var silo = grid.GpuSilos[0];
        await grid.LoadOnAsync("err-neighbour", silo);

        var error = await Assert.ThrowsAsync<AdapterRejectedException>(async () =>
        {
            await grid.LoadOnAsync("err-rank-direct", silo);
        });

        Assert.Contains("rank", error.Reason);
        Assert.NotEmpty((await grid.Client.GenerateToEndAsync("err-neighbour", Short)).TokenIds);
    }

    [Fact]
    public async Task An_unreachable_store_is_a_clear_error()
    {
        var id = FaultyAdapterStore.UnreachablePrefix + "a";

        var error = await Assert.ThrowsAsync<AdapterStoreUnavailableException>(() => grid.Client.GenerateToEndAsync(id, Short));

        Assert.Equal(id, error.AdapterId);
    }

    [Fact]
    public async Task Registering_while_the_store_is_unreachable_is_a_clear_error()
    {
        using var _ = grid.Store.Cut("err-store-down");

        await Assert.ThrowsAsync<AdapterStoreUnavailableException>(() => grid.RegisterAsync("err-store-down"));
    }

    [Fact]
    public async Task A_warm_adapter_is_served_while_the_store_is_unreachable()
    {
        var silo = grid.GpuSilos[0];
        await grid.RegisterAsync("err-warm-fallback");
        await grid.LoadOnAsync("err-warm-fallback", silo);
        await grid.Client.UnloadAdapterAsync("err-warm-fallback");
        await GridCluster.WaitUntilAsync(() => !grid.Engine(silo).HasAdapter("err-warm-fallback"), TimeSpan.FromSeconds(10), "the adapter to deactivate");
        using var _ = grid.Store.Cut("err-warm-fallback");

        var info = await grid.LoadOnAsync("err-warm-fallback", silo);

        Assert.True(info.FromWarmCache);
        Assert.NotEmpty((await grid.Client.GenerateToEndAsync("err-warm-fallback", Short)).TokenIds);
    }

    [Fact]
    public async Task Bad_sampling_parameters_name_the_parameter()
    {
        await grid.RegisterAsync("err-sampling");

        var error = await Assert.ThrowsAsync<InvalidGenerationRequestException>(() => grid.Client.GenerateToEndAsync("err-sampling",
            GenerateRequest.ForTokens(TinyModel.Prompt, new SamplingOptions { Temperature = -1 })));

        Assert.Equal("temperature", error.Parameter);
    }

    [Fact]
    public async Task A_prompt_outside_the_vocabulary_is_refused()
    {
        await grid.RegisterAsync("err-prompt");

        var error = await Assert.ThrowsAsync<InvalidGenerationRequestException>(() => grid.Client.GenerateToEndAsync("err-prompt",
            GenerateRequest.ForTokens([1, TinyModel.Config.VocabSize + 5])));

        Assert.Equal("prompt", error.Parameter);
    }

    [Fact]
    public void An_invalid_adapter_id_is_refused_by_the_client()
    {
        Assert.Throws<ArgumentException>(() => grid.Client.GenerateAsync("../etc", Short));
    }
}
