using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// GPU-tuned versions of the kernels whose portable form (one thread per row) leaves a GPU
/// mostly idle or reads memory uncoalesced: one warp per row of work, lanes striding over the
/// row so that each load instruction of the warp reads consecutive elements, and warp shuffles
/// for the reductions. Used on CUDA; they compute the same functions as the portable kernels and
/// are tested against the same references (on ILGPU's CPU device too, with a small warp).
/// </summary>
internal sealed class TunedKernels
{
    /// <summary>Warps per group: enough groups per SM to hide latency without large groups.</summary>
    private const int WarpsPerGroup = 4;

    /// <summary>Most head dimensions per lane the attention kernel holds (head_dim ≤ 8 × warp size).</summary>
    public const int MaxDimsPerLane = 8;

    private readonly Accelerator _acc;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<Half>, ArrayView<Half>, int, float, int> _norm;
    private readonly Action<AcceleratorStream, KernelConfig, AttentionArgs, AttentionShape, int, float, int> _attention;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, int, ArrayView<int>, ArrayView<float>, int> _argMax;

    public TunedKernels(Accelerator accelerator)
    {
        _acc = accelerator;
        _norm = accelerator.LoadKernel<ArrayView<float>, ArrayView<int>, ArrayView<Half>, ArrayView<Half>, int, float, int>(RmsNorm);
        _attention = accelerator.LoadKernel<AttentionArgs, AttentionShape, int, float, int>(Attention);
        _argMax = accelerator.LoadKernel<ArrayView<float>, int, ArrayView<int>, ArrayView<float>, int>(ArgMax);
    }

    /// <summary>Whether the attention kernel can hold this head dimension.</summary>
    public bool SupportsHeadDim(int headDim) => headDim % _acc.WarpSize == 0 && headDim / _acc.WarpSize <= MaxDimsPerLane;

    private KernelConfig Warps(int items) => Warps(_acc, items);

    /// <summary>
    /// A launch of one warp per item: groups of several warps on a GPU; as many as the device
    /// allows elsewhere (ILGPU's CPU device may allow one). Kernels find their item with <see cref="WarpItem"/>.
    /// </summary>
    internal static KernelConfig Warps(Accelerator accelerator, int items)
    {
        int warps = Math.Max(1, Math.Min(WarpsPerGroup, accelerator.MaxNumThreadsPerGroup / accelerator.WarpSize));
        return new((items + warps - 1) / warps, warps * accelerator.WarpSize);
    }

    /// <summary>This warp's item in a <see cref="Warps(Accelerator, int)"/> launch.</summary>
    internal static int WarpItem() => Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;

    /// <summary>Same contract as <see cref="RmsNormKernel.Launch"/>.</summary>
    public void RmsNorm(AcceleratorStream stream, int numRows, ArrayView<float> x, ArrayView<int> rows,
        ArrayView<Half> weight, ArrayView<Half> y, int hidden, float eps)
    {
        // One group of up to 8 warps per row: at small batches a warp per row would leave the
        // GPU idle and walk the row serially.
        int warps = Math.Max(1, Math.Min(8, _acc.MaxNumThreadsPerGroup / _acc.WarpSize));
        if (numRows > 0)
            _norm(stream, new KernelConfig(numRows, warps * _acc.WarpSize), x, rows, weight, y, hidden, eps, numRows);
    }

    /// <summary>Same contract as <see cref="AttentionKernel.Launch"/>.</summary>
    public void Attention(AcceleratorStream stream, int numTokens, AttentionArgs args, AttentionShape shape, int layer)
    {
        int items = numTokens * shape.NumHeads;
        if (items > 0)
            _attention(stream, Warps(items), args, shape, layer, 1f / MathF.Sqrt(shape.HeadDim), items);
    }

    /// <summary>Per row of logits: the argmax token and its log-probability.</summary>
    public void ArgMax(AcceleratorStream stream, int numRows, ArrayView<float> logits, int vocab, ArrayView<int> tokens, ArrayView<float> logprobs)
    {
        if (numRows > 0)
            _argMax(stream, Warps(numRows), logits, vocab, tokens, logprobs, numRows);
    }

    internal static void RmsNorm(ArrayView<float> x, ArrayView<int> rows, ArrayView<Half> weight, ArrayView<Half> y,
        int hidden, float eps, int numRows)
    {
        int r = Grid.IdxX;
        long src = (long)rows[r] * hidden;
        long dst = (long)r * hidden;
        float sum = 0f;
        for (int d = Group.IdxX; d < hidden; d += Group.DimX)
        {
            float v = x[src + d];
            sum += v * v;
        }
        sum = WarpMath.AllSum(sum);
        var partial = SharedMemory.Allocate<float>(32);
        if (Warp.LaneIdx == 0)
            partial[Warp.WarpIdx] = sum;
        Group.Barrier();
        float total = 0f;
        for (int w = 0; w < Group.DimX / Warp.WarpSize; w++)
            total += partial[w];
        float inv = 1f / MathF.Sqrt(total / hidden + eps);
        for (int d = Group.IdxX; d < hidden; d += Group.DimX)
            y[dst + d] = (Half)(x[src + d] * inv * (float)weight[d]);
    }

    internal static void Attention(AttentionArgs a, AttentionShape shape, int layer, float scale, int numItems)
    {
        int item = WarpItem();
        if (item >= numItems)
            return;
        int m = item / shape.NumHeads;
        int h = item - m * shape.NumHeads;
        int hd = shape.HeadDim;
        int lane = Warp.LaneIdx;
        int ws = Warp.WarpSize;
        int perLane = hd / ws;
        int kvHead = h / (shape.NumHeads / shape.NumKvHeads);
        int pageListStart = a.PageListStart[a.SeqOfToken[m]];
        int keys = a.Positions[m] + 1;

        // Lane owns dimensions lane, lane + ws, ...: every load of the warp is consecutive.
        var q = LocalMemory.Allocate<float>(MaxDimsPerLane);
        var acc = LocalMemory.Allocate<float>(MaxDimsPerLane);
        long qRow = (long)m * shape.QkvWidth + (long)h * hd;
        for (int k = 0; k < perLane; k++)
        {
            q[k] = a.Qkv[qRow + lane + k * ws] * scale;
            acc[k] = 0f;
        }

        float max = float.NegativeInfinity;
        float sum = 0f;
        for (int t = 0; t < keys; t++)
        {
            long kBase = shape.KeyOffset(a.PageLists[pageListStart + t], layer) + (long)kvHead * hd + lane;
            float partial = 0f;
            for (int k = 0; k < perLane; k++)
                partial += q[k] * (float)a.Pool[kBase + k * ws];
            float score = WarpMath.AllSum(partial);
            float newMax = MathF.Max(max, score);
            float correction = MathF.Exp(max - newMax);
            float p = MathF.Exp(score - newMax);
            sum = sum * correction + p;
            long vBase = kBase + shape.KvDim;
            for (int k = 0; k < perLane; k++)
                acc[k] = acc[k] * correction + p * (float)a.Pool[vBase + k * ws];
            max = newMax;
        }

        long outRow = (long)m * shape.NumHeads * hd + (long)h * hd;
        float inv = 1f / sum;
        for (int k = 0; k < perLane; k++)
            a.Output[outRow + lane + k * ws] = (Half)(acc[k] * inv);
    }

    internal static void ArgMax(ArrayView<float> logits, int vocab, ArrayView<int> tokens, ArrayView<float> logprobs, int numRows)
    {
        int r = WarpItem();
        if (r >= numRows)
            return;
        long row = (long)r * vocab;
        float best = float.NegativeInfinity;
        int index = int.MaxValue;
        for (int v = Warp.LaneIdx; v < vocab; v += Warp.WarpSize)
        {
            float value = logits[row + v];
            if (value > best)
            {
                best = value;
                index = v;
            }
        }
        WarpMath.AllArgMax(ref best, ref index);
        float sum = 0f;
        for (int v = Warp.LaneIdx; v < vocab; v += Warp.WarpSize)
            sum += MathF.Exp(logits[row + v] - best);
        sum = WarpMath.AllSum(sum);
        if (Warp.LaneIdx == 0)
        {
            tokens[r] = index;
            logprobs[r] = -MathF.Log(sum);
        }
    }
}
