using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// Paged attention for GPUs in the flash-decoding style. The keys of each (token, head) are cut
/// into splits, one warp per split, so that a small batch still fills the GPU; within a warp,
/// each lane scores a different key (its K row read with 16-byte loads), so 32 keys are in
/// flight at once, then the lanes switch to owning head dimensions and accumulate the 32 V rows
/// with coalesced loads. A second kernel merges the splits' partial softmax states. Same
/// function as <see cref="AttentionKernel"/>.
/// </summary>
internal sealed class FlashDecodeKernels
{
    private const int WarpsPerGroup = 4;

    private readonly Accelerator _acc;
    private readonly Action<AcceleratorStream, KernelConfig, AttentionArgs, FlashScratch, AttentionShape, int, float, int, int, int> _partial;
    private readonly Action<AcceleratorStream, Index1D, AttentionArgs, FlashScratch, AttentionShape, int> _combine;

    public FlashDecodeKernels(Accelerator accelerator)
    {
        _acc = accelerator;
        _partial = accelerator.LoadKernel<AttentionArgs, FlashScratch, AttentionShape, int, float, int, int, int>(Partial);
        _combine = accelerator.LoadAutoGroupedKernel<Index1D, AttentionArgs, FlashScratch, AttentionShape, int>(Combine);
    }

    /// <summary>Head dimensions the kernels handle: multiples of 8 (16-byte K loads) and of the warp, at most 8 per lane.</summary>
    public bool Supports(AttentionShape shape) =>
        shape.HeadDim % 8 == 0 && shape.HeadDim % _acc.WarpSize == 0 && shape.HeadDim / _acc.WarpSize <= TunedKernels.MaxDimsPerLane
        && shape.KvDim % 8 == 0 && shape.QkvWidth % 8 == 0;


    /// <summary>How many splits the keys of each (token, head) get: enough warps to fill the GPU, no split shorter than a warp.</summary>
    public int Splits(int items, int maxKeys, int maxSplits)
    {
        int wanted = (_acc.NumMultiprocessors * 16 + items - 1) / items;
        int byLength = (maxKeys + _acc.WarpSize - 1) / _acc.WarpSize;
        return Math.Clamp(Math.Min(wanted, byLength), 1, maxSplits);
    }

    /// <summary>Launches both kernels; <paramref name="splitsOverride"/> fixes the split count (tests).</summary>
    public void Launch(AcceleratorStream stream, int numTokens, int maxKeys, AttentionArgs args, FlashScratch scratch, int maxSplits,
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
        _partial(stream, new KernelConfig((total + warps - 1) / warps, warps * _acc.WarpSize), args, scratch, shape, layer,
            1f / MathF.Sqrt(shape.HeadDim), splits, chunk, total);
        _combine(stream, items * shape.HeadDim, args, scratch, shape, splits);
    }

    internal static void Partial(AttentionArgs a, FlashScratch scratch, AttentionShape shape, int layer, float scale, int splits, int chunk, int numItems)
    {
        int item = Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        if (item >= numItems)
            return;
        int split = item % splits;
        int pair = item / splits;
        int m = pair / shape.NumHeads;
        int h = pair - m * shape.NumHeads;
        int hd = shape.HeadDim;
        int lane = Warp.LaneIdx;
        int ws = Warp.WarpSize;
        int perLane = hd / ws;
        int kvHead = h / (shape.NumHeads / shape.NumKvHeads);
        int pageListStart = a.PageListStart[a.SeqOfToken[m]];
        int keys = a.Positions[m] + 1;
        int first = split * chunk;
        int end = Math.Min(keys, first + chunk);

        long qRow = (long)m * shape.QkvWidth + (long)h * hd;
        var q8 = a.Qkv.Cast<Float8>();
        var pool8 = a.Pool.Cast<Half8>();
        var acc = LocalMemory.Allocate<float>(TunedKernels.MaxDimsPerLane);
        for (int k = 0; k < perLane; k++)
            acc[k] = 0f;
        float max = float.NegativeInfinity;
        float sum = 0f;

        for (int block = first; block < end; block += ws)
        {
            // Lanes as keys: each lane scores one key of the block.
            int t = block + lane;
            bool valid = t < end;
            int page = valid ? a.PageLists[pageListStart + t] : 0;
            float score = float.NegativeInfinity;
            if (valid)
            {
                long k8 = (shape.KeyOffset(page, layer) + (long)kvHead * hd) / 8;
                float dot = 0f;
                for (int c = 0; c < hd / 8; c++)
                    dot += pool8[k8 + c].Dot(q8[qRow / 8 + c]);
                score = dot * scale;
            }
            float blockMax = WarpMath.AllMax(score);
            float newMax = MathF.Max(max, blockMax);
            float p = valid ? MathF.Exp(score - newMax) : 0f;
            float correction = MathF.Exp(max - newMax);
            sum = sum * correction + WarpMath.AllSum(p);
            max = newMax;

            // Lanes as dimensions: accumulate the block's V rows, each read by the whole warp.
            for (int k = 0; k < perLane; k++)
                acc[k] *= correction;
            int count = Math.Min(ws, end - block);
            for (int j = 0; j < count; j++)
            {
                float pj = Warp.Shuffle(p, j);
                int pagej = Warp.Shuffle(page, j);
                long v = shape.KeyOffset(pagej, layer) + shape.KvDim + (long)kvHead * hd + lane;
                for (int k = 0; k < perLane; k++)
                    acc[k] += pj * (float)a.Pool[v + k * ws];
            }
        }

        long state = (long)pair * splits + split;
        for (int k = 0; k < perLane; k++)
            scratch.Acc[state * hd + lane + k * ws] = acc[k];
        if (lane == 0)
        {
            scratch.Max[state] = max;
            scratch.Sum[state] = sum;
        }
    }

    internal static void Combine(Index1D i, AttentionArgs a, FlashScratch scratch, AttentionShape shape, int splits)
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
        int m = pair / shape.NumHeads;
        int h = pair - m * shape.NumHeads;
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
