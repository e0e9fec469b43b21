using SLoRA.Grid.Errors;
using SLoRA.Grid.Generation;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Grains;

[Collection(GridCollection.Name)]
public sealed class AdapterLifecycleTests(GridCluster grid)
{
    private static GenerateRequest Tokens(int n) => GenerateRequest.ForTokens(TinyModel.Prompt, new SamplingOptions { MaxNewTokens = n, IgnoreEos = true });

    [Fact]
    public async Task Deactivation_unregisters_the_adapter_and_frees_its_pages()
    {
        var silo = grid.GpuSilos[2];
        var engine = grid.Engine(silo);
        await grid.RegisterAsync("life-pages");
        await grid.LoadOnAsync("life-pages", silo);
        await GridCluster.WaitUntilAsync(() => engine.GetStats().Running == 0, TimeSpan.FromSeconds(10), "an idle engine");
        int adapterPagesBefore = engine.GetStats().PagesAdapter;

        await grid.Client.GenerateToEndAsync("life-pages", Tokens(4));
        await GridCluster.WaitUntilAsync(() => engine.GetStats() is { Running: 0, PagesKv: 0 }, TimeSpan.FromSeconds(10), "the request to finish");
        int adapterPages = engine.GetStats().PagesAdapter - adapterPagesBefore;
        Assert.True(adapterPages > 0, "the adapter's weights went into device pages");
        int registered = engine.GetStats().AdaptersRegistered;

        await grid.Client.UnloadAdapterAsync("life-pages");

        await GridCluster.WaitUntilAsync(() => engine.GetStats().PagesAdapter == adapterPagesBefore, TimeSpan.FromSeconds(10), "the adapter's pages to be freed");
        Assert.False(engine.HasAdapter("life-pages"));
        Assert.Equal(registered - 1, engine.GetStats().AdaptersRegistered);
        var stats = engine.GetStats();
        Assert.Equal(stats.PagesTotal, stats.PagesFree + stats.PagesKv + stats.PagesAdapter);
    }

    [Fact]
    public async Task Cancelling_a_stream_cancels_the_request_and_frees_its_kv_pages()
    {
        await grid.RegisterAsync("life-cancel");
        var silo = (await grid.Client.LoadAdapterAsync("life-cancel")).Silo;
        var engine = grid.Engine(silo);
        using var cts = new CancellationTokenSource();
        int received = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in grid.Client.GenerateAsync("life-cancel", Tokens(200), cts.Token))
            {
                if (++received == 2)
                {
                    Assert.True(engine.GetStats().PagesKv > 0);
                    cts.Cancel();
                }
            }
        });

        await GridCluster.WaitUntilAsync(() => engine.GetStats() is { Running: 0, Waiting: 0, PagesKv: 0 }, TimeSpan.FromSeconds(10), "the cancelled request's pages to be freed");
        Assert.True(engine.GetStats().GeneratedTokens > 0);
    }

    [Fact]
    public async Task Leaving_a_stream_early_cancels_the_request()
    {
        await grid.RegisterAsync("life-break");
        var silo = (await grid.Client.LoadAdapterAsync("life-break")).Silo;
        var engine = grid.Engine(silo);

        await foreach (var _ in grid.Client.GenerateAsync("life-break", Tokens(200)))
            break;

        await GridCluster.WaitUntilAsync(() => engine.GetStats() is { Running: 0, Waiting: 0, PagesKv: 0 }, TimeSpan.FromSeconds(10), "the abandoned request's pages to be freed");
    }

    [Fact]
    public async Task A_new_version_is_reloaded_by_the_active_grain()
    {
        var v1 = await grid.RegisterAsync("life-reload", rank: 4);
        var before = await grid.Client.LoadAdapterAsync("life-reload");
        Assert.Equal(v1.Version, before.Version);

        var v2 = await grid.RegisterAsync("life-reload", rank: 8);

        await GridCluster.WaitUntilAsync(() => grid.Client.LoadAdapterAsync("life-reload").Result.Version == v2.Version,
            TimeSpan.FromSeconds(10), "the grain to reload version 2");
        var after = await grid.Client.LoadAdapterAsync("life-reload");
        Assert.Equal(before.Silo, after.Silo);
        Assert.Equal(1, after.Reloads);
        Assert.NotEmpty((await grid.Client.GenerateToEndAsync("life-reload", Tokens(3))).TokenIds);
    }

    [Fact]
    public async Task A_deleted_adapter_is_unloaded_and_then_unknown()
    {
        await grid.RegisterAsync("life-delete");
        var silo = (await grid.Client.LoadAdapterAsync("life-delete")).Silo;

        Assert.True(await grid.Client.DeleteAdapterAsync("life-delete"));

        await GridCluster.WaitUntilAsync(() => !grid.Engine(silo).HasAdapter("life-delete"), TimeSpan.FromSeconds(10), "the deleted adapter to unload");
        await Assert.ThrowsAsync<AdapterNotFoundException>(() => grid.Client.GenerateToEndAsync("life-delete", Tokens(2)));
        Assert.DoesNotContain(await grid.Client.ListAdaptersAsync(), a => a.AdapterId == "life-delete");
        Assert.False(await grid.Client.DeleteAdapterAsync("life-delete"));
    }
}
