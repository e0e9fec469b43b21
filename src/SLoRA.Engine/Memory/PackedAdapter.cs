using System.Runtime.CompilerServices;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Model;

namespace SLoRA.Engine.Memory;

/// <summary>
/// An adapter laid out page by page, ready to copy into the unified pool: page p of the adapter
/// is one contiguous run of host memory that lands on one pool page. Within a page, layer l's
/// slice holds elements [p·S, (p+1)·S) of the adapter's flat layer-l data (A rows then Bᵀ rows,
/// module after module), so the adapter takes max over layers of ceil(elements / S) pages: its
/// own size, never padded to a maximum rank. The host array lives on the pinned object heap, so
/// it can be page-locked for asynchronous copies. Adapters that are the same weights under other
/// ids (<see cref="LoraAdapter.WithId"/>: the same module objects) share one host array: each is
/// still its own adapter (its own key, pages and copies), but 2,000 copies of a rank-64 Llama-7B
/// adapter do not take 2,000 × 134 MB of pinned host memory.
/// </summary>
internal sealed class PackedAdapter
{
    private static long s_version;

    /// <summary>Module groups the runner launches LoRA kernels for: q/k/v, o, gate/up, down (they share an input).</summary>
    public const int NumGroups = 4;

    private PackedAdapter(string id, int numPages, System.Half[] host, LoraModuleEntry[] entries, int maxRank)
    {
        int modules = WeightNames.ProjectionModules.Count;
        GroupMaxRanks = new int[NumGroups];
        for (int i = 0; i < entries.Length; i++)
        {
            int g = GroupOf(i % modules);
            GroupMaxRanks[g] = Math.Max(GroupMaxRanks[g], entries[i].Rank);
        }
        Id = id;
        Key = $"{id}#{Interlocked.Increment(ref s_version)}";
        NumPages = numPages;
        Host = host;
        Entries = entries;
        MaxRank = maxRank;
    }

    /// <summary>The adapter's id (its name to users).</summary>
    public string Id { get; }

    /// <summary>This registration's unique key: a re-registered id is a new version with a new key.</summary>
    public string Key { get; }

    /// <summary>Pool pages the adapter takes when resident.</summary>
    public int NumPages { get; }

    /// <summary>Page-major host copy: NumPages × page elements.</summary>
    public System.Half[] Host { get; }

    /// <summary>[layer, module] table of where each module's matrices start (rank 0: not adapted).</summary>
    public LoraModuleEntry[] Entries { get; }

    /// <summary>Largest rank among the adapter's modules.</summary>
    public int MaxRank { get; }

    /// <summary>Largest rank per module group (<see cref="GroupOf"/>); 0 where the adapter adapts none of the group's modules, so the runner can skip that group's launches.</summary>
    public int[] GroupMaxRanks { get; }

    /// <summary>The group of module <paramref name="moduleId"/> (see <see cref="ModuleId"/>): q, k, v → 0; o → 1; gate, up → 2; down → 3.</summary>
    public static int GroupOf(int moduleId) => moduleId switch { <= 2 => 0, 3 => 1, 4 or 5 => 2, _ => 3 };

    /// <summary>Packs <paramref name="adapter"/> for a pool whose pages give each of <paramref name="numLayers"/> layers <paramref name="sliceElements"/> elements.</summary>
    public static PackedAdapter Pack(LoraAdapter adapter, int numLayers, int sliceElements)
    {
        if (adapter.Modules.Count > 0 && s_packed.TryGetValue(adapter.Modules[0], out var prior) && prior.Matches(adapter, numLayers, sliceElements))
            return new PackedAdapter(adapter.Id, prior.NumPages, prior.Host, prior.Entries, prior.MaxRank);
        var packed = PackNew(adapter, numLayers, sliceElements);
        if (adapter.Modules.Count > 0)
        {
            s_packed.AddOrUpdate(adapter.Modules[0], new PackedHost(numLayers, sliceElements, packed.NumPages, packed.Host, packed.Entries, packed.MaxRank,
                [.. adapter.Modules.Select(m => new WeakReference<LoraModuleWeights>(m))]));
        }
        return packed;
    }

    // Keyed by the first module's weights object, held weakly: an entry lives as long as some
    // adapter holds those weights, and costs nothing once the caller drops them.
    private static readonly ConditionalWeakTable<LoraModuleWeights, PackedHost> s_packed = [];

    /// <summary>A packed host array and the module objects it was packed from (weakly).</summary>
    private sealed record PackedHost(int NumLayers, int SliceElements, int NumPages, System.Half[] Host, LoraModuleEntry[] Entries, int MaxRank,
        WeakReference<LoraModuleWeights>[] Modules)
    {
        public bool Matches(LoraAdapter adapter, int numLayers, int sliceElements)
        {
            if (numLayers != NumLayers || sliceElements != SliceElements || adapter.Modules.Count != Modules.Length)
                return false;
            for (int i = 0; i < Modules.Length; i++)
            {
                if (!Modules[i].TryGetTarget(out var m) || !ReferenceEquals(m, adapter.Modules[i]))
                    return false;
            }
            return true;
        }
    }

    private static PackedAdapter PackNew(LoraAdapter adapter, int numLayers, int sliceElements)
    {
        int modules = WeightNames.ProjectionModules.Count;
        var entries = new LoraModuleEntry[numLayers * modules];
        var layerLength = new long[numLayers];
        foreach (var m in adapter.Modules)
        {
            int id = ModuleId(m.Module);
            // Each matrix starts on a multiple of 8 elements, so kernels may read 16 bytes at a time.
            long aStart = AlignUp(layerLength[m.Layer]);
            long bStart = AlignUp(aStart + (long)m.Rank * m.InFeatures);
            layerLength[m.Layer] = bStart + (long)m.Rank * m.OutFeatures;
            entries[m.Layer * modules + id] = new LoraModuleEntry(m.Rank, checked((int)aStart), checked((int)bStart), m.Scaling);
        }
        int pages = (int)Math.Max(1, layerLength.Max(n => (n + sliceElements - 1) / sliceElements));
        long pageElements = (long)numLayers * sliceElements;
        var host = GC.AllocateArray<System.Half>(checked((int)(pages * pageElements)), pinned: true);
        foreach (var m in adapter.Modules)
        {
            var e = entries[m.Layer * modules + ModuleId(m.Module)];
            Scatter(host, m.A, m.Layer, e.AStart, numLayers, sliceElements);
            Scatter(host, Transpose(m.B, m.OutFeatures, m.Rank), m.Layer, e.BStart, numLayers, sliceElements);
        }
        return new PackedAdapter(adapter.Id, pages, host, entries, adapter.Modules.Count == 0 ? 0 : adapter.Modules.Max(m => m.Rank));
    }

    private static long AlignUp(long elements) => (elements + 7) / 8 * 8;

    /// <summary>The index of a projection module in the layer's module order (q, k, v, o, gate, up, down).</summary>
    public static int ModuleId(string module)
    {
        for (int i = 0; i < WeightNames.ProjectionModules.Count; i++)
        {
            if (WeightNames.ProjectionModules[i] == module)
                return i;
        }
        throw new ArgumentException($"unknown projection module '{module}'", nameof(module));
    }

    private static void Scatter(System.Half[] host, ReadOnlySpan<System.Half> data, int layer, long start, int numLayers, int slice)
    {
        for (long k = 0; k < data.Length;)
        {
            long e = start + k;
            long page = e / slice;
            int within = (int)(e - page * slice);
            int run = (int)Math.Min(slice - within, data.Length - k);
            data.Slice((int)k, run).CopyTo(host.AsSpan((int)((page * numLayers + layer) * slice + within), run));
            k += run;
        }
    }

    private static System.Half[] Transpose(System.Half[] b, int rows, int cols)
    {
        // B is [out, rank]; the expand kernel reads Bᵀ [rank, out] so that a rank row is contiguous.
        var t = new System.Half[b.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
                t[c * rows + r] = b[r * cols + c];
        }
        return t;
    }
}
