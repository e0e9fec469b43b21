using ILGPU;
using ILGPU.Runtime;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Memory;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Tests.Adapters;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Tests.Memory;

/// <summary>Adapters that are the same weights under other ids share one packed host array, and one page lock.</summary>
public class SharedAdapterWeightsTests
{
    private static readonly string[] Targets = ["q_proj", "v_proj", "o_proj"];

    [Fact]
    public void Copies_of_one_adapter_under_other_ids_share_the_packed_host_array_and_nothing_else_does()
    {
        var config = AdapterFixtures.Gqa;
        int slice = 2 * config.KvDim;
        var template = LoraAdapter.Synthetic(config, "template", 4, Targets, seed: 7);
        var a = PackedAdapter.Pack(template.WithId("a"), config.NumLayers, slice);
        var b = PackedAdapter.Pack(template.WithId("b"), config.NumLayers, slice);
        Assert.Same(a.Host, b.Host);
        Assert.NotEqual(a.Key, b.Key);
        Assert.Equal("b", b.Id);
        Assert.Equal(a.Entries, b.Entries);

        // The same values from other objects (loaded again, say) are packed anew, equal in content.
        var twin = PackedAdapter.Pack(LoraAdapter.Synthetic(config, "twin", 4, Targets, seed: 7), config.NumLayers, slice);
        Assert.NotSame(a.Host, twin.Host);
        Assert.Equal(a.Host, twin.Host);

        // Another layout is another packing.
        var wider = PackedAdapter.Pack(template.WithId("c"), config.NumLayers, slice + 8);
        Assert.NotSame(a.Host, wider.Host);
    }

    [Fact]
    public void Resident_adapters_sharing_a_host_array_hold_one_page_lock_until_the_last_leaves()
    {
        var config = AdapterFixtures.Gqa;
        using var rig = new CacheRig(config);
        var (pages, cache) = (rig.Pages, rig.Cache);
        var template = LoraAdapter.Synthetic(config, "template", 4, Targets, seed: 11);
        var a = PackedAdapter.Pack(template.WithId("a"), config.NumLayers, 2 * config.KvDim);
        var b = PackedAdapter.Pack(template.WithId("b"), config.NumLayers, 2 * config.KvDim);
        var other = PackedAdapter.Pack(LoraAdapter.Synthetic(config, "other", 4, Targets, seed: 12), config.NumLayers, 2 * config.KvDim);
        foreach (var p in new[] { a, b, other })
        {
            cache.Register(p);
            Assert.True(cache.TryLoad(p));
        }
        cache.WaitForCopies();
        Assert.All(new[] { a, b, other }, p => Assert.True(cache.IsResident(p.Key)));
        Assert.Equal(2, cache.LockedHostArrays);
        Assert.NotEqual(cache.SlotOf(a.Key), cache.SlotOf(b.Key));

        // Each copy landed in its own pages: both hold the shared host data.
        foreach (var p in new[] { a, b })
            rig.AssertOnDevice(p);

        cache.Unregister(a.Key);
        Assert.False(cache.IsResident(a.Key));
        Assert.True(cache.IsResident(b.Key));
        Assert.Equal(2, cache.LockedHostArrays);
        cache.Unregister(b.Key);
        Assert.Equal(1, cache.LockedHostArrays);
        cache.Unregister(other.Key);
        Assert.Equal(0, cache.LockedHostArrays);
        Assert.Equal(0, pages.CountOf(PageKind.Adapter));
    }

    [Fact]
    public void Registration_keeps_host_arrays_locked_within_the_budget_and_loads_lock_the_rest_while_resident()
    {
        var config = AdapterFixtures.Gqa;
        int slice = 2 * config.KvDim;
        var template = LoraAdapter.Synthetic(config, "template", 4, Targets, seed: 21);
        var a = PackedAdapter.Pack(template.WithId("a"), config.NumLayers, slice);
        var b = PackedAdapter.Pack(template.WithId("b"), config.NumLayers, slice);
        var other = PackedAdapter.Pack(LoraAdapter.Synthetic(config, "other", 4, Targets, seed: 22), config.NumLayers, slice);
        long bytes = 2L * a.Host.LongLength;
        // Room for one host array (and not a byte more).
        using var rig = new CacheRig(config, registrationLockBytes: bytes);
        var cache = rig.Cache;

        cache.Register(a);
        Assert.Equal(1, cache.LockedHostArrays);
        Assert.Equal(bytes, cache.LockedHostBytes);
        // b shares a's array: already locked, so it is kept locked at no cost to the budget.
        cache.Register(b);
        Assert.Equal(1, cache.LockedHostArrays);
        // other would exceed the budget: registered, not locked, until it is loaded.
        cache.Register(other);
        Assert.Equal(1, cache.LockedHostArrays);
        Assert.True(cache.TryLoad(other));
        Assert.Equal(2, cache.LockedHostArrays);
        Assert.True(cache.TryEvict(other.Key));
        Assert.Equal(1, cache.LockedHostArrays);

        // A load and an eviction of a registered, locked adapter leave its lock as it was.
        Assert.True(cache.TryLoad(a));
        cache.WaitForCopies();
        Assert.True(cache.TryEvict(a.Key));
        Assert.Equal(1, cache.LockedHostArrays);
        cache.Unregister(a.Key);
        Assert.Equal(1, cache.LockedHostArrays);
        cache.Unregister(b.Key);
        Assert.Equal(0, cache.LockedHostArrays);
        Assert.Equal(0, cache.LockedHostBytes);
        cache.Unregister(other.Key);
        Assert.Equal(0, cache.LockedHostArrays);
    }

    [Fact]
    public void An_adapter_on_scattered_pages_is_copied_run_by_run_into_the_right_pages()
    {
        var config = AdapterFixtures.Gqa;
        using var rig = new CacheRig(config);
        // KV takes pages 0..5, then gives back 1 and (3, 4): the adapter gets 3, 4 (a run), 1,
        // then a run from 6 on.
        var kv = new int[6];
        Assert.True(rig.Pages.TryAllocate(PageKind.KvCache, kv));
        Assert.Equal([0, 1, 2, 3, 4, 5], kv);
        rig.Pages.Free([1]);
        rig.Pages.Free([3, 4]);
        var adapter = PackedAdapter.Pack(LoraAdapter.Synthetic(config, "scattered", 8, Targets, seed: 31), config.NumLayers, 2 * config.KvDim);
        Assert.True(adapter.NumPages >= 5, $"the adapter needs {adapter.NumPages} pages; the test wants at least 5");
        rig.Cache.Register(adapter);
        Assert.True(rig.Cache.TryLoad(adapter));
        var pageList = ((ArrayView1D<int, Stride1D.Dense>)rig.Cache.PageLists.SubView((long)rig.Cache.SlotOf(adapter.Key) * rig.Cache.MaxPagesPerAdapter, 5)).GetAsArray1D();
        Assert.Equal([3, 4, 1, 6, 7], pageList);
        rig.AssertOnDevice(adapter);
    }

    [Fact]
    public void Evictable_pages_count_the_resident_adapters_no_sequence_uses()
    {
        var config = AdapterFixtures.Gqa;
        using var rig = new CacheRig(config);
        var cache = rig.Cache;
        var a = PackedAdapter.Pack(LoraAdapter.Synthetic(config, "a", 4, Targets, seed: 41), config.NumLayers, 2 * config.KvDim);
        var b = PackedAdapter.Pack(LoraAdapter.Synthetic(config, "b", 8, Targets, seed: 42), config.NumLayers, 2 * config.KvDim);
        cache.Register(a);
        cache.Register(b);
        Assert.Equal(0, cache.EvictablePages);
        Assert.True(cache.TryLoad(a));
        Assert.True(cache.TryLoad(b));
        Assert.Equal(a.NumPages + b.NumPages, cache.EvictablePages);
        cache.AddUser(a.Key, +1);
        cache.AddUser(a.Key, +1);
        Assert.Equal(b.NumPages, cache.EvictablePages);
        cache.AddUser(a.Key, -1);
        Assert.Equal(b.NumPages, cache.EvictablePages);
        Assert.False(cache.TryEvict(a.Key));
        Assert.True(cache.TryEvict(b.Key));
        Assert.Equal(0, cache.EvictablePages);
        cache.AddUser(a.Key, -1);
        Assert.Equal(a.NumPages, cache.EvictablePages);
        cache.EvictIdle();
        Assert.Equal(0, cache.EvictablePages);
        Assert.Equal(0, cache.ResidentCount);
    }

    /// <summary>A CPU device, a pool of 1024 pages of the model's page size and a cache over it.</summary>
    private sealed class CacheRig : IDisposable
    {
        private readonly ComputeDevice _device;

        public CacheRig(SLoRA.Engine.Model.LlamaConfig config, long registrationLockBytes = 0)
        {
            _device = ComputeDevice.Create(AcceleratorPreference.Cpu);
            Pages = new PagePool(1024);
            PageElements = 2L * config.NumLayers * config.KvDim;
            Pool = _device.Accelerator.Allocate1D<Half>(Pages.Capacity * PageElements);
            Cache = new AdapterCache(_device.Accelerator, Pages, Pool.View, config, maxRank: 8, maxResident: 4, registrationLockBytes);
        }

        public PagePool Pages { get; }
        public long PageElements { get; }
        public MemoryBuffer1D<Half, Stride1D.Dense> Pool { get; }
        public AdapterCache Cache { get; }

        /// <summary>The adapter is resident and each of its pages in the pool holds the host's data for it.</summary>
        public void AssertOnDevice(PackedAdapter p)
        {
            Cache.WaitForCopies();
            var poolData = Pool.GetAsArray1D();
            int slot = Cache.SlotOf(p.Key);
            var pageList = ((ArrayView1D<int, Stride1D.Dense>)Cache.PageLists.SubView((long)slot * Cache.MaxPagesPerAdapter, p.NumPages)).GetAsArray1D();
            for (int i = 0; i < p.NumPages; i++)
            {
                var onDevice = poolData.AsSpan((int)(pageList[i] * PageElements), (int)PageElements).ToArray().Select(h => (float)h);
                var onHost = p.Host.AsSpan((int)(i * PageElements), (int)PageElements).ToArray().Select(h => (float)h);
                Assert.Equal(onHost, onDevice);
            }
        }

        public void Dispose()
        {
            Cache.Dispose();
            Pool.Dispose();
            _device.Dispose();
        }
    }
}
