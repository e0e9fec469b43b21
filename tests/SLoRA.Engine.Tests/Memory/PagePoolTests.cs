using SLoRA.Engine.Memory;

namespace SLoRA.Engine.Tests.Memory;

public sealed class PagePoolTests
{
    private const int Capacity = 96;

    [Fact]
    public void Random_allocations_and_frees_keep_every_page_owned_once_and_the_counts_consistent()
    {
        var rng = new Random(2024);
        var pool = new PagePool(Capacity);
        // The model: every live allocation's pages and kind.
        var live = new List<(PageKind Kind, List<int> Pages)>();
        var freed = new List<int>();
        int failures = 0, doubleFrees = 0;

        for (int op = 0; op < 20_000; op++)
        {
            int choice = rng.Next(20);
            if (choice < 10 || live.Count == 0)
            {
                var kind = rng.Next(2) == 0 ? PageKind.KvCache : PageKind.Adapter;
                // Sometimes more than is free (up to past capacity), sometimes none at all.
                int count = rng.Next(8) == 0 ? rng.Next(Capacity + 5) : rng.Next(9);
                if (TryAllocate(pool, kind, count, live, op))
                    freed.RemoveAll(p => pool.KindOf(p) != PageKind.Free);
                else
                    failures++;
            }
            else if (choice < 19)
            {
                // Free a whole allocation or a random part of one.
                int which = rng.Next(live.Count);
                var pages = live[which].Pages;
                int count = rng.Next(3) == 0 ? rng.Next(1, pages.Count + 1) : pages.Count;
                var chosen = pages.OrderBy(_ => rng.Next()).Take(count).ToArray();
                pool.Free(chosen);
                pages.RemoveAll(chosen.Contains);
                if (pages.Count == 0)
                    live.RemoveAt(which);
                freed.AddRange(chosen);
            }
            else if (freed.Count > 0)
            {
                int page = freed[rng.Next(freed.Count)];
                var ex = Record.Exception(() => pool.Free([page]));
                Assert.True(ex is InvalidOperationException, $"op {op}: freeing free page {page} twice must throw, got {ex?.GetType().Name ?? "nothing"}");
                doubleFrees++;
            }
            CheckInvariants(pool, live, op);
        }

        // The sequence did exercise every path.
        Assert.True(failures > 200, $"only {failures} failed allocations");
        Assert.True(doubleFrees > 200, $"only {doubleFrees} double frees");

        foreach (var (_, pages) in live)
            pool.Free(pages.ToArray());
        live.Clear();
        CheckInvariants(pool, live, op: -1);
        Assert.Equal(Capacity, pool.FreeCount);
        Assert.Equal(Capacity, pool.CountOf(PageKind.Free));
        // Full again: the whole pool can be taken at once, each page once.
        var all = new int[Capacity];
        Assert.True(pool.TryAllocate(PageKind.KvCache, all));
        Assert.Equal(Enumerable.Range(0, Capacity), all.Order());
    }

    [Fact]
    public void Pages_cannot_be_allocated_as_free()
    {
        var pool = new PagePool(4);
        Assert.Throws<ArgumentException>(() => pool.TryAllocate(PageKind.Free, new int[1]));
        Assert.Equal(4, pool.FreeCount);
    }

    private static bool TryAllocate(PagePool pool, PageKind kind, int count, List<(PageKind, List<int>)> live, int op)
    {
        int freeBefore = pool.FreeCount;
        var kindsBefore = Kinds(pool);
        var pages = Enumerable.Repeat(-7, count).ToArray();
        Assert.Equal(count <= freeBefore, pool.CanAllocate(count));
        bool ok = pool.TryAllocate(kind, pages);
        Assert.True(ok == count <= freeBefore, $"op {op}: allocating {count} of {freeBefore} free pages returned {ok}");
        if (!ok)
        {
            // All or nothing: nothing taken, the caller's span untouched.
            Assert.Equal(freeBefore, pool.FreeCount);
            Assert.Equal(kindsBefore, Kinds(pool));
            Assert.All(pages, p => Assert.Equal(-7, p));
            return false;
        }
        Assert.Equal(count, pages.Distinct().Count());
        foreach (int page in pages)
        {
            Assert.InRange(page, 0, Capacity - 1);
            Assert.True(kindsBefore[page] == PageKind.Free, $"op {op}: page {page} handed out while holding {kindsBefore[page]}");
        }
        if (count > 0)
            live.Add((kind, pages.ToList()));
        return true;
    }

    private static PageKind[] Kinds(PagePool pool)
    {
        var kinds = new PageKind[Capacity];
        for (int page = 0; page < Capacity; page++)
            kinds[page] = pool.KindOf(page);
        return kinds;
    }

    private static void CheckInvariants(PagePool pool, List<(PageKind Kind, List<int> Pages)> live, int op)
    {
        var owner = new PageKind[Capacity];
        foreach (var (kind, pages) in live)
        {
            foreach (int page in pages)
            {
                Assert.True(owner[page] == PageKind.Free, $"op {op}: page {page} owned twice");
                owner[page] = kind;
            }
        }
        var counts = new int[3];
        for (int page = 0; page < Capacity; page++)
        {
            var kind = pool.KindOf(page);
            Assert.True(owner[page] == kind, $"op {op}: page {page} is {kind} in the pool but {owner[page]} in the model");
            counts[(int)kind]++;
        }
        foreach (var kind in new[] { PageKind.Free, PageKind.KvCache, PageKind.Adapter })
            Assert.True(counts[(int)kind] == pool.CountOf(kind), $"op {op}: CountOf({kind}) is {pool.CountOf(kind)}, {counts[(int)kind]} pages hold it");
        Assert.Equal(Capacity, pool.CountOf(PageKind.Free) + pool.CountOf(PageKind.KvCache) + pool.CountOf(PageKind.Adapter));
        Assert.Equal(pool.CountOf(PageKind.Free), pool.FreeCount);
    }
}

public sealed class PagePoolFreeTests
{
    [Fact]
    public void Free_is_all_or_nothing_when_a_page_is_freed_twice()
    {
        var pool = new SLoRA.Engine.Memory.PagePool(8);
        var pages = new int[3];
        Assert.True(pool.TryAllocate(SLoRA.Engine.Memory.PageKind.KvCache, pages));
        Assert.Throws<InvalidOperationException>(() => pool.Free([pages[0], pages[1], pages[0]]));
        Assert.Equal(5, pool.FreeCount);
        Assert.Equal(3, pool.CountOf(SLoRA.Engine.Memory.PageKind.KvCache));
        pool.Free(pages);
        Assert.Equal(8, pool.FreeCount);
        Assert.Throws<InvalidOperationException>(() => pool.Free([pages[2]]));
    }
}

public sealed class PagePoolAllocationTests
{
    [Fact]
    public void Allocating_and_freeing_pages_allocates_no_managed_memory()
    {
        var pool = new SLoRA.Engine.Memory.PagePool(4096);
        var pages = new int[64];
        var tooMany = new int[5000];
        // Warm up (JIT), then measure a long run of step-like operations.
        for (int i = 0; i < 10; i++)
        {
            Assert.True(pool.TryAllocate(SLoRA.Engine.Memory.PageKind.KvCache, pages));
            pool.Free(pages);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Assert.True(pool.TryAllocate(i % 2 == 0 ? SLoRA.Engine.Memory.PageKind.KvCache : SLoRA.Engine.Memory.PageKind.Adapter, pages));
            Assert.False(pool.TryAllocate(SLoRA.Engine.Memory.PageKind.KvCache, tooMany));
            pool.Free(pages);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}
