using Microsoft.Extensions.Options;
using SLoRA.Engine.Adapters;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Hosting;

public sealed class WarmAdapterCacheTests
{
    private static LoraAdapter Adapter(string id) => LoraAdapter.Synthetic(TinyModel.Config, id, 4, ["q_proj"], seed: 1);

    private static WarmAdapterCache Cache(long bytes) => new(Options.Create(new WarmCacheOptions { MaxBytes = bytes }));

    [Fact]
    public void The_least_recently_kept_adapter_makes_room()
    {
        long one = WarmAdapterCache.SizeOf(Adapter("a"));
        var cache = Cache(2 * one);
        cache.Put("a", "v1", Adapter("a"));
        cache.Put("b", "v1", Adapter("b"));

        cache.Put("c", "v1", Adapter("c"));

        Assert.Equal(["c", "b"], cache.Ids());
        Assert.Equal(2 * one, cache.Bytes);
    }

    [Fact]
    public void Only_the_held_version_is_taken_and_a_stale_one_is_dropped()
    {
        var cache = Cache(1 << 20);
        cache.Put("a", "v1", Adapter("a"));

        Assert.Null(cache.TryTake("a", "v2"));
        Assert.False(cache.Contains("a"));
        cache.Put("a", "v2", Adapter("a"));
        Assert.NotNull(cache.TryTake("a", "v2"));
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void A_zero_budget_keeps_nothing()
    {
        var cache = Cache(0);
        cache.Put("a", "v1", Adapter("a"));

        Assert.Empty(cache.Ids());
    }

    [Fact]
    public void Eviction_keeps_the_version_a_catalog_event_names()
    {
        var cache = Cache(1 << 20);
        cache.Put("a", "v2", Adapter("a"));

        cache.Evict("a", keepVersion: "v2");
        Assert.True(cache.Contains("a"));
        cache.Evict("a", keepVersion: "v3");
        Assert.False(cache.Contains("a"));
    }
}
