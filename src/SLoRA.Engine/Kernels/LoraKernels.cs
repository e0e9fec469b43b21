using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// Where one (adapter, layer, module)'s LoRA matrices lie inside the adapter's pages. An adapter's
/// data for layer l is one flat run of fp16 elements, spread over the layer-l slices of its pages
/// (each page gives every layer a slice of <c>SliceElements</c>): A as [rank, in] rows, then Bᵀ
/// as [rank, out] rows, module after module. Rank 0 means the module is not adapted.
/// </summary>
internal readonly struct LoraModuleEntry(int rank, int aStart, int bStart, float scaling)
{
    public readonly int Rank = rank;
    public readonly int AStart = aStart;
    public readonly int BStart = bStart;
    public readonly float Scaling = scaling;
}

/// <summary>The shape facts the LoRA kernels need about the pool and the adapter tables.</summary>
internal readonly struct LoraLayout(int numLayers, int sliceElements, int modulesPerLayer, int maxPagesPerAdapter, bool alignedStarts = false)
{
    /// <summary>1 when every matrix starts on a multiple of 8 elements (as <c>PackedAdapter</c> lays them out), so 16-byte loads may be used (an int: kernel structs must be blittable).</summary>
    public readonly int AlignedStarts = alignedStarts ? 1 : 0;

    public readonly int NumLayers = numLayers;
    /// <summary>Elements one page gives each layer (2 × KV row width: the layer's K and V rows).</summary>
    public readonly int SliceElements = sliceElements;
    public readonly int ModulesPerLayer = modulesPerLayer;
    public readonly int MaxPagesPerAdapter = maxPagesPerAdapter;

    /// <summary>Pool offset of element <paramref name="e"/> of an adapter's layer data.</summary>
    public long Address(ArrayView<int> pageLists, int slot, int layer, long e)
    {
        // 32-bit division: an adapter's layer data is far below 2^31 elements (PackedAdapter packs
        // its starts as ints), and a 64-bit division is a long subroutine on a GPU.
        var position = PagePosition.Of(this, (int)e);
        return SliceBase(pageLists, slot, layer, position.Page) + position.Offset;
    }

    public int EntryIndex(int slot, int layer, int module) => (slot * NumLayers + layer) * ModulesPerLayer + module;

    /// <summary>Pool offset where the layer slice of the adapter's <paramref name="pageIndex"/>-th page starts.</summary>
    public long SliceBase(ArrayView<int> pageLists, int slot, int layer, int pageIndex) =>
        ((long)pageLists[slot * MaxPagesPerAdapter + pageIndex] * NumLayers + layer) * SliceElements;
}

/// <summary>
/// Where in the pool the elements of one adapter page lie: element e of the adapter's layer data
/// is at <see cref="Offset"/> + e while e &lt; <see cref="End"/> (and at or past the page's start).
/// Kernels that walk a row forward follow it from page to page instead of dividing per load.
/// </summary>
internal readonly struct PageCursor(int end, long offset)
{
    public readonly int End = end;
    public readonly long Offset = offset;

    public static PageCursor Seek(LoraArgs a, LoraLayout layout, int slot, int layer, int element)
    {
        var position = PagePosition.Of(layout, element);
        int start = element - position.Offset;
        return new PageCursor(start + layout.SliceElements, layout.SliceBase(a.PageLists, slot, layer, position.Page) - start);
    }

    /// <summary>This cursor, or the next page's for an element past it (elements only grow).</summary>
    public PageCursor Follow(LoraArgs a, LoraLayout layout, int slot, int layer, int element) =>
        element < End ? this : Seek(a, layout, slot, layer, element);
}

/// <summary>
/// An element of an adapter's layer data as (page index, offset in the page's slice), moved by a
/// fixed stride with an addition and a compare instead of a division per element: kernels that
/// read rows a fixed distance apart (Bᵀ rows, <c>outFeatures</c> elements) step from row to row.
/// </summary>
internal readonly struct PagePosition(int page, int offset)
{
    public readonly int Page = page;
    public readonly int Offset = offset;

    /// <summary>The position of <paramref name="element"/> (or, for a stride, its whole pages and the rest).</summary>
    public static PagePosition Of(LoraLayout layout, int element)
    {
        int page = element / layout.SliceElements;
        return new PagePosition(page, element - page * layout.SliceElements);
    }

    /// <summary>This position moved by <paramref name="stride"/> (a position made by <see cref="Of"/>).</summary>
    public PagePosition Advance(LoraLayout layout, PagePosition stride)
    {
        int page = Page + stride.Page;
        int offset = Offset + stride.Offset;
        if (offset >= layout.SliceElements)
        {
            offset -= layout.SliceElements;
            page++;
        }
        return new PagePosition(page, offset);
    }

    /// <summary>Pool offset of this element of the adapter in <paramref name="slot"/>.</summary>
    public long Address(LoraArgs a, LoraLayout layout, int slot, int layer) => layout.SliceBase(a.PageLists, slot, layer, Page) + Offset;
}

/// <summary>The per-launch description of a group of modules that share one input (q/k/v, o, gate/up, down).</summary>
internal readonly struct LoraGroup(int module0, int count, int inFeatures, int out0, int out1, int out2, int outputStride)
{
    /// <summary>Module id (index in the layer's module order) of the group's first module.</summary>
    public readonly int Module0 = module0;
    public readonly int Count = count;
    public readonly int InFeatures = inFeatures;
    /// <summary>Output widths of up to three modules, laid side by side in the output rows.</summary>
    public readonly int Out0 = out0, Out1 = out1, Out2 = out2;
    public readonly int OutputStride = outputStride;

    public int OutWidth => Out0 + Out1 + Out2;

    public int OutFeatures(int g) => g == 0 ? Out0 : g == 1 ? Out1 : Out2;

    /// <summary>The group module (0..2) whose outputs hold column <paramref name="col"/> of the output row, and the column within that module.</summary>
    public int ModuleOf(int col, out int o)
    {
        o = col;
        if (o < Out0)
            return 0;
        o -= Out0;
        if (o < Out1)
            return 1;
        o -= Out1;
        return 2;
    }
}

/// <summary>The buffers of one LoRA launch.</summary>
internal readonly struct LoraArgs(ArrayView<Half> pool, ArrayView<int> pageLists, ArrayView<LoraModuleEntry> entries,
    ArrayView<int> slotOfToken, ArrayView<float> shrunk)
{
    public readonly ArrayView<Half> Pool = pool;
    public readonly ArrayView<int> PageLists = pageLists;
    public readonly ArrayView<LoraModuleEntry> Entries = entries;
    /// <summary>Each token's adapter slot, or -1 for the base model.</summary>
    public readonly ArrayView<int> SlotOfToken = slotOfToken;
    /// <summary>Scratch [tokens, group modules, maxRank] of x·Aᵀ.</summary>
    public readonly ArrayView<float> Shrunk = shrunk;

    /// <summary>
    /// The adapter slot and entry of group module <paramref name="g"/> for token <paramref name="m"/>;
    /// false when there is nothing to compute: a base-model token, or rank row <paramref name="j"/>
    /// at or past the module's rank (an unadapted module has rank 0).
    /// </summary>
    public bool TryRow(LoraLayout layout, LoraGroup group, int layer, int m, int g, int j, out int slot, out LoraModuleEntry entry)
    {
        slot = SlotOfToken[m];
        entry = default;
        if (slot < 0)
            return false;
        entry = Entries[layout.EntryIndex(slot, layer, group.Module0 + g)];
        return j < entry.Rank;
    }
}

/// <summary>
/// Heterogeneous multi-LoRA, S-LoRA's MBGMV (decode) and MBGMM (prefill) in one portable pair of
/// kernels: every token carries its own adapter slot, so decode tokens and prefill segments of
/// different adapters and ranks share one launch, and base-model tokens (slot -1) skip. Shrink:
/// s[m, g, j] = x[m] · A_g[j]; expand: y[m, col] += scaling_g · Σ_j s[m, g, j] · Bᵀ_g[j, o].
/// A and B are read through the adapter's pages in the unified pool; nothing is padded to a
/// maximum rank (only the per-step scratch is sized by the batch's largest rank).
/// </summary>
internal sealed class LoraKernels(Accelerator accelerator)
{
    private readonly Action<AcceleratorStream, Index1D, LoraArgs, LoraLayout, LoraGroup, ArrayView<Half>, int, int> _shrink =
        accelerator.LoadAutoGroupedKernel<Index1D, LoraArgs, LoraLayout, LoraGroup, ArrayView<Half>, int, int>(Shrink);

    private readonly Action<AcceleratorStream, Index1D, LoraArgs, LoraLayout, LoraGroup, ArrayView<float>, int, int> _expand =
        accelerator.LoadAutoGroupedKernel<Index1D, LoraArgs, LoraLayout, LoraGroup, ArrayView<float>, int, int>(Expand);

    /// <summary>Adds the LoRA terms of <paramref name="group"/> in <paramref name="layer"/> to <paramref name="y"/>.</summary>
    public void Apply(AcceleratorStream stream, int numTokens, LoraArgs args, LoraLayout layout, LoraGroup group,
        ArrayView<Half> x, ArrayView<float> y, int layer, int maxRank)
    {
        if (maxRank == 0 || numTokens == 0)
            return;
        _shrink(stream, numTokens * group.Count * maxRank, args, layout, group, x, layer, maxRank);
        _expand(stream, numTokens * group.OutWidth, args, layout, group, y, layer, maxRank);
    }

    /// <summary>The expand half alone, after a shrink by another kernel into the same scratch.</summary>
    public void Expand(AcceleratorStream stream, int numTokens, LoraArgs args, LoraLayout layout, LoraGroup group,
        ArrayView<float> y, int layer, int maxRank)
    {
        if (maxRank > 0 && numTokens > 0)
            _expand(stream, numTokens * group.OutWidth, args, layout, group, y, layer, maxRank);
    }

    internal static void Shrink(Index1D i, LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<Half> x, int layer, int maxRank)
    {
        int j = i % maxRank;
        int rest = i / maxRank;
        int g = rest % group.Count;
        int m = rest / group.Count;
        if (!a.TryRow(layout, group, layer, m, g, j, out int slot, out var e))
            return;
        int n = group.InFeatures;
        long row = (long)e.AStart + (long)j * n;
        long xRow = (long)m * n;
        float sum = 0f;
        for (int k = 0; k < n; k++)
            sum += (float)x[xRow + k] * (float)a.Pool[layout.Address(a.PageLists, slot, layer, row + k)];
        a.Shrunk[i] = sum;
    }

    internal static void Expand(Index1D i, LoraArgs a, LoraLayout layout, LoraGroup group, ArrayView<float> y, int layer, int maxRank)
    {
        int width = group.OutWidth;
        int m = i / width;
        int col = i - m * width;
        int slot = a.SlotOfToken[m];
        if (slot < 0)
            return;
        int g = group.ModuleOf(col, out int o);
        var e = a.Entries[layout.EntryIndex(slot, layer, group.Module0 + g)];
        if (e.Rank == 0)
            return;
        int outFeatures = group.OutFeatures(g);
        long shrunk = ((long)m * group.Count + g) * maxRank;
        // Walk Bᵀ's column o down the rank rows through the pages: a division only when a row
        // lands on a later page, not per element.
        int element = e.BStart + o;
        var cursor = PageCursor.Seek(a, layout, slot, layer, element);
        float sum = 0f;
        for (int j = 0; j < e.Rank; j++)
        {
            cursor = cursor.Follow(a, layout, slot, layer, element);
            sum += a.Shrunk[shrunk + j] * (float)a.Pool[cursor.Offset + element];
            element += outFeatures;
        }
        y[(long)m * group.OutputStride + col] += e.Scaling * sum;
    }
}
