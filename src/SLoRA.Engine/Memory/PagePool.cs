namespace SLoRA.Engine.Memory;

/// <summary>
/// Bookkeeping of the unified page pool: which of the pool's fixed-size pages are free, and what
/// each used page holds. KV cache and adapter weights draw pages from this one free list, so
/// memory flows between them as the load shifts (S-LoRA's unified paging). Allocation is all or
/// nothing and allocates no managed memory; running out is a normal <c>false</c>, not an exception.
/// Not thread-safe: the engine's step thread owns it.
/// </summary>
public sealed class PagePool
{
    private readonly int[] _free;
    private readonly PageKind[] _kind;
    private readonly int[] _countByKind = new int[3];
    private int _freeCount;

    /// <summary>Creates a pool of <paramref name="capacity"/> free pages.</summary>
    public PagePool(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _free = new int[capacity];
        _kind = new PageKind[capacity];
        // Highest index at the bottom of the stack, so pages are handed out from 0 upwards.
        for (int i = 0; i < capacity; i++)
            _free[i] = capacity - 1 - i;
        _freeCount = capacity;
        _countByKind[(int)PageKind.Free] = capacity;
    }

    /// <summary>Total pages.</summary>
    public int Capacity => _kind.Length;

    /// <summary>Pages on the free list.</summary>
    public int FreeCount => _freeCount;

    /// <summary>Pages currently holding <paramref name="kind"/>.</summary>
    public int CountOf(PageKind kind) => _countByKind[(int)kind];

    /// <summary>What page <paramref name="page"/> holds.</summary>
    public PageKind KindOf(int page) => _kind[page];

    /// <summary>Whether <paramref name="count"/> pages can be allocated now.</summary>
    public bool CanAllocate(int count) => count <= _freeCount;

    /// <summary>Fills <paramref name="pages"/> with free pages for <paramref name="kind"/>; false (and nothing taken) when too few are free.</summary>
    public bool TryAllocate(PageKind kind, Span<int> pages)
    {
        if (kind == PageKind.Free)
            throw new ArgumentException("Pages are allocated for KV cache or adapters, not as free.", nameof(kind));
        if (pages.Length > _freeCount)
            return false;
        for (int i = 0; i < pages.Length; i++)
        {
            int page = _free[--_freeCount];
            _kind[page] = kind;
            pages[i] = page;
        }
        _countByKind[(int)PageKind.Free] -= pages.Length;
        _countByKind[(int)kind] += pages.Length;
        return true;
    }

    /// <summary>
    /// Returns pages to the free list, all or nothing: freeing a free page (or one page twice in
    /// the list) is a bug, and throws before anything is freed.
    /// </summary>
    public void Free(ReadOnlySpan<int> pages)
    {
        // Pass 1 marks each page (high bit), so a page listed twice is seen too; on a bad page
        // the marks are undone and nothing is freed.
        const PageKind marked = (PageKind)0x80;
        for (int i = 0; i < pages.Length; i++)
        {
            var kind = _kind[pages[i]];
            if (kind == PageKind.Free || (kind & marked) != 0)
            {
                for (int j = 0; j < i; j++)
                    _kind[pages[j]] &= ~marked;
                throw new InvalidOperationException($"Page {pages[i]} is freed twice.");
            }
            _kind[pages[i]] = kind | marked;
        }
        // Pushed last page first, so that the next allocation of as many pages pops them in the
        // order they were listed: a freed run of consecutive pages comes back as one run (adapter
        // loads copy each run of consecutive pages in one copy).
        for (int i = pages.Length - 1; i >= 0; i--)
        {
            int page = pages[i];
            var kind = _kind[page] & ~marked;
            _kind[page] = PageKind.Free;
            _countByKind[(int)kind]--;
            _countByKind[(int)PageKind.Free]++;
            _free[_freeCount++] = page;
        }
    }
}
