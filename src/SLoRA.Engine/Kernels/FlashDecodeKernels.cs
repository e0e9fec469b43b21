using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// Paged attention for GPUs in the flash-decoding style. The keys of each (token, head) are cut
/// into splits, one warp per split, so that a small batch still fills the GPU. Within a warp, a
/// key's head-dimension row is read by hd/8 lanes with one 16-byte load each (a 128-dim fp16 row
/// is 16 lanes × 16 bytes, one coalesced 256-byte read), so a warp covers 32·8/hd keys per load;
/// each iteration issues four such loads for K and four for V before using any of them, so every
/// lane has eight independent 16-byte loads in flight: what a memory-bound kernel needs to reach
/// the bandwidth (the previous version's V loop walked keys one by one). Scores are reduced inside
/// each key's lane group, the online softmax runs per iteration, and the lane groups' partial V
/// sums are merged once at the end. A second kernel merges the splits' partial softmax states (when there
/// is more than one split). Same function as <see cref="AttentionKernel"/>, for the tokens of a token list.
/// </summary>
internal sealed class FlashDecodeKernels
{
    private const int WarpsPerGroup = 4;
    /// <summary>Warps per multiprocessor the split count aims for (at most 64 fit on an H100/H200 SM).</summary>
    private const int TargetWarpsPerSm = 32;
    /// <summary>Keys per lane group per iteration (the loop is unrolled by hand this many times).</summary>
    private const int Unroll = 4;

    private readonly Accelerator _acc;
    private readonly Action<AcceleratorStream, KernelConfig, AttentionArgs, FlashScratch, ArrayView<int>, AttentionShape, int, float, int, int, int> _partial;
    private readonly Action<AcceleratorStream, Index1D, AttentionArgs, FlashScratch, ArrayView<int>, AttentionShape, int> _combine;

    public FlashDecodeKernels(Accelerator accelerator)
    {
        _acc = accelerator;
        _partial = accelerator.LoadKernel<AttentionArgs, FlashScratch, ArrayView<int>, AttentionShape, int, float, int, int, int>(Partial);
        _combine = accelerator.LoadAutoGroupedKernel<Index1D, AttentionArgs, FlashScratch, ArrayView<int>, AttentionShape, int>(Combine);
    }

    /// <summary>
    /// Head dimensions the kernels handle: a row is hd/8 16-byte chunks, one per lane of a lane
    /// group, and the groups must tile the warp (hd/8 a power of two, at most the warp size).
    /// </summary>
    public bool Supports(AttentionShape shape)
    {
        int chunks = shape.HeadDim / 8;
        return shape.HeadDim % 8 == 0 && chunks <= _acc.WarpSize && _acc.WarpSize % chunks == 0 && (chunks & (chunks - 1)) == 0
            && shape.KvDim % 8 == 0 && shape.QkvWidth % 8 == 0;
    }

    /// <summary>Partial states the scratch must hold for <paramref name="items"/> (token, head) pairs: see <see cref="Splits"/>.</summary>
    public long MaxStates(long items) => items + (long)_acc.NumMultiprocessors * TargetWarpsPerSm;

    /// <summary>How many splits the keys of each (token, head) get: enough warps to fill the GPU, no split shorter than a warp's worth of keys.</summary>
    public int Splits(int items, int maxKeys, int maxSplits)
    {
        int wanted = (_acc.NumMultiprocessors * TargetWarpsPerSm + items - 1) / items;
        int byLength = (maxKeys + _acc.WarpSize - 1) / _acc.WarpSize;
        return Math.Clamp(Math.Min(wanted, byLength), 1, maxSplits);
    }

    /// <summary>
    /// Attention of the tokens <paramref name="tokenList"/>[0 .. <paramref name="numTokens"/>) (batch
    /// token indices); <paramref name="splitsOverride"/> fixes the split count (tests).
    /// </summary>
    public void Launch(AcceleratorStream stream, ArrayView<int> tokenList, int numTokens, int maxKeys, AttentionArgs args, FlashScratch scratch, int maxSplits,
        AttentionShape shape, int layer, int? splitsOverride = null)
    {
        int items = numTokens * shape.NumHeads;
        if (items == 0)
            return;
        int splits = splitsOverride ?? Splits(items, maxKeys, maxSplits);
        int chunk = (maxKeys + splits - 1) / splits;
        chunk = (chunk + _acc.WarpSize - 1) / _acc.WarpSize * _acc.WarpSize;
        int warps = Math.Max(1, Math.Min(WarpsPerGroup, _acc.MaxNumThreadsPerGroup / _acc.WarpSize));
        int total = items * splits;
        _partial(stream, new KernelConfig((total + warps - 1) / warps, warps * _acc.WarpSize), args, scratch, tokenList, shape, layer,
            1f / MathF.Sqrt(shape.HeadDim), splits, chunk, total);
        if (splits > 1)
            _combine(stream, items * shape.HeadDim, args, scratch, tokenList, shape, splits);
    }

    internal static void Partial(AttentionArgs a, FlashScratch scratch, ArrayView<int> tokenList, AttentionShape shape, int layer, float scale,
        int splits, int chunk, int numItems)
    {
        int item = Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        if (item >= numItems)
            return;
        int split = item % splits;
        int pair = item / splits;
        int listIndex = pair / shape.NumHeads;
        int h = pair - listIndex * shape.NumHeads;
        int m = tokenList[listIndex];
        int hd = shape.HeadDim;
        int ws = Warp.WarpSize;
        int lanesPerKey = hd / 8;
        int keysPerLoad = ws / lanesPerKey;
        int sub = Warp.LaneIdx / lanesPerKey;
        int part = Warp.LaneIdx - sub * lanesPerKey;
        int kvHead = h / (shape.NumHeads / shape.NumKvHeads);
        int pageListStart = a.PageListStart[a.SeqOfToken[m]];
        int keys = a.Positions[m] + 1;
        int first = split * chunk;
        int end = Math.Min(keys, first + chunk);

        Float8 q = a.Qkv.Cast<Float8>()[((long)m * shape.QkvWidth + (long)h * hd) / 8 + part];
        q = q.Scale(scale);
        long inRow8 = (long)kvHead * lanesPerKey + part;
        long kvDim8 = shape.KvDim / 8;
        var acc = default(Float8);
        float max = float.NegativeInfinity;
        float sum = 0f;

        // The page ids of the first iteration's keys; each iteration then fetches the next one's
        // along with its own K/V loads, so a key costs one memory latency, not two in a row.
        int step = Unroll * keysPerLoad;
        int next0 = PageOf(a, pageListStart, first + sub, end);
        int next1 = PageOf(a, pageListStart, first + sub + keysPerLoad, end);
        int next2 = PageOf(a, pageListStart, first + sub + 2 * keysPerLoad, end);
        int next3 = PageOf(a, pageListStart, first + sub + 3 * keysPerLoad, end);
        for (int block = first; block < end; block += step)
        {
            // Four keys per lane group, all eight loads issued before any is used.
            int t0 = block + sub, t1 = t0 + keysPerLoad, t2 = t1 + keysPerLoad, t3 = t2 + keysPerLoad;
            bool ok0 = t0 < end, ok1 = t1 < end, ok2 = t2 < end, ok3 = t3 < end;
            int page0 = next0, page1 = next1, page2 = next2, page3 = next3;
            next0 = PageOf(a, pageListStart, t0 + step, end);
            next1 = PageOf(a, pageListStart, t1 + step, end);
            next2 = PageOf(a, pageListStart, t2 + step, end);
            next3 = PageOf(a, pageListStart, t3 + step, end);
            LoadKv(a, shape, layer, ok0, page0, inRow8, kvDim8, out var k0, out var v0);
            LoadKv(a, shape, layer, ok1, page1, inRow8, kvDim8, out var k1, out var v1);
            LoadKv(a, shape, layer, ok2, page2, inRow8, kvDim8, out var k2, out var v2);
            LoadKv(a, shape, layer, ok3, page3, inRow8, kvDim8, out var k3, out var v3);
            // Every lane takes part in every shuffle (invalid keys hold zeros and are masked after).
            float s0 = WarpMath.XorSum(k0.Dot(q), lanesPerKey / 2, 1);
            float s1 = WarpMath.XorSum(k1.Dot(q), lanesPerKey / 2, 1);
            float s2 = WarpMath.XorSum(k2.Dot(q), lanesPerKey / 2, 1);
            float s3 = WarpMath.XorSum(k3.Dot(q), lanesPerKey / 2, 1);
            s0 = ok0 ? s0 : float.NegativeInfinity;
            s1 = ok1 ? s1 : float.NegativeInfinity;
            s2 = ok2 ? s2 : float.NegativeInfinity;
            s3 = ok3 ? s3 : float.NegativeInfinity;
            // Key t = block (group 0's first) is always valid, so the block maximum is finite.
            float blockMax = WarpMath.XorMax(MathF.Max(MathF.Max(s0, s1), MathF.Max(s2, s3)), ws / 2, lanesPerKey);
            float newMax = MathF.Max(max, blockMax);
            float correction = MathF.Exp(max - newMax);
            float p0 = ok0 ? MathF.Exp(s0 - newMax) : 0f;
            float p1 = ok1 ? MathF.Exp(s1 - newMax) : 0f;
            float p2 = ok2 ? MathF.Exp(s2 - newMax) : 0f;
            float p3 = ok3 ? MathF.Exp(s3 - newMax) : 0f;
            sum = sum * correction + WarpMath.XorSum(p0 + p1 + p2 + p3, ws / 2, lanesPerKey);
            acc = acc.ScaleAdd(correction, p0, v0).Add(p1, v1).Add(p2, v2).Add(p3, v3);
            max = newMax;
        }

        // Each lane group summed its own keys' V rows; add the groups together.
        acc = WarpMath.XorSum(acc, ws / 2, lanesPerKey);
        if (splits == 1)
        {
            // Nothing to merge: the output directly, without the combine launch.
            if (sub == 0)
                a.Output.Cast<Half8>()[((long)m * shape.NumHeads * hd + (long)h * hd) / 8 + part] = acc.ToHalf(1f / sum);
            return;
        }
        long state = (long)pair * splits + split;
        if (sub == 0)
            scratch.Acc.Cast<Float8>()[state * lanesPerKey + part] = acc;
        if (Warp.LaneIdx == 0)
        {
            scratch.Max[state] = max;
            scratch.Sum[state] = sum;
        }
    }

    /// <summary>This lane's 16-byte chunks of a key's K and V rows (zeros for an invalid key), read as struct copies so ILGPU emits one 16-byte load each.</summary>
    private static void LoadKv(AttentionArgs a, AttentionShape shape, int layer, bool valid, int page, long inRow8, long kvDim8, out Half8 k, out Half8 v)
    {
        k = default;
        v = default;
        if (valid)
        {
            var pool8 = a.Pool.Cast<Half8>();
            long o = shape.KeyOffset(page, layer) / 8 + inRow8;
            k = pool8[o];
            v = pool8[o + kvDim8];
        }
    }

    /// <summary>The page of key <paramref name="t"/>, or 0 past <paramref name="end"/> (never read then).</summary>
    private static int PageOf(AttentionArgs a, int pageListStart, int t, int end) => t < end ? a.PageLists[pageListStart + t] : 0;

    internal static void Combine(Index1D i, AttentionArgs a, FlashScratch scratch, ArrayView<int> tokenList, AttentionShape shape, int splits)
    {
        int hd = shape.HeadDim;
        int pair = i / hd;
        int d = i - pair * hd;
        long first = (long)pair * splits;
        float max = float.NegativeInfinity;
        for (int s = 0; s < splits; s++)
            max = MathF.Max(max, scratch.Max[first + s]);
        float sum = 0f, value = 0f;
        for (int s = 0; s < splits; s++)
        {
            float stateMax = scratch.Max[first + s];
            if (stateMax == float.NegativeInfinity)
                continue; // An empty split (the token has fewer keys than the split starts at).
            float w = MathF.Exp(stateMax - max);
            sum += w * scratch.Sum[first + s];
            value += w * scratch.Acc[(first + s) * hd + d];
        }
        int listIndex = pair / shape.NumHeads;
        int h = pair - listIndex * shape.NumHeads;
        int m = tokenList[listIndex];
        a.Output[(long)m * shape.NumHeads * hd + (long)h * hd + d] = (Half)(value / sum);
    }
}

/// <summary>Partial softmax states of the flash-decoding splits.</summary>
internal readonly struct FlashScratch(ArrayView<float> acc, ArrayView<float> max, ArrayView<float> sum)
{
    public readonly ArrayView<float> Acc = acc;
    public readonly ArrayView<float> Max = max;
    public readonly ArrayView<float> Sum = sum;
}
