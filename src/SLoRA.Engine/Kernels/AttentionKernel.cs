using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// Causal attention over paged K/V, one thread per (token, query head), with an online softmax.
/// Serves prefill and decode alike: token m of sequence s attends to the keys at positions
/// 0..positions[m] of s, found through s's page list. Grouped-query heads share a KV head.
/// This is the portable version; it is correct everywhere and fast on the CPU accelerator.
/// </summary>
internal sealed class AttentionKernel(Accelerator accelerator)
{
    /// <summary>Largest head dimension the kernel's per-thread buffers hold.</summary>
    public const int MaxHeadDim = 256;

    private readonly Action<AcceleratorStream, Index1D, AttentionArgs, AttentionShape, int, float> _launch =
        accelerator.LoadAutoGroupedKernel<Index1D, AttentionArgs, AttentionShape, int, float>(Kernel);

    public void Launch(AcceleratorStream stream, int numTokens, AttentionArgs args, AttentionShape shape, int layer) =>
        _launch(stream, numTokens * shape.NumHeads, args, shape, layer, 1f / MathF.Sqrt(shape.HeadDim));

    internal static void Kernel(Index1D i, AttentionArgs a, AttentionShape shape, int layer, float scale)
    {
        int m = i / shape.NumHeads;
        int h = i - m * shape.NumHeads;
        int hd = shape.HeadDim;
        int kvHead = h / (shape.NumHeads / shape.NumKvHeads);
        int seq = a.SeqOfToken[m];
        int pageListStart = a.PageListStart[seq];
        int keys = a.Positions[m] + 1;

        var q = LocalMemory.Allocate<float>(MaxHeadDim);
        var acc = LocalMemory.Allocate<float>(MaxHeadDim);
        long qRow = (long)m * shape.QkvWidth + (long)h * hd;
        for (int d = 0; d < hd; d++)
        {
            q[d] = a.Qkv[qRow + d] * scale;
            acc[d] = 0f;
        }

        float max = float.NegativeInfinity;
        float sum = 0f;
        for (int t = 0; t < keys; t++)
        {
            long k = shape.KeyOffset(a.PageLists[pageListStart + t], layer) + (long)kvHead * hd;
            long v = k + shape.KvDim;
            float score = 0f;
            for (int d = 0; d < hd; d++)
                score += q[d] * (float)a.Pool[k + d];
            if (score > max)
            {
                float correction = MathF.Exp(max - score);
                sum *= correction;
                for (int d = 0; d < hd; d++)
                    acc[d] *= correction;
                max = score;
            }
            float p = MathF.Exp(score - max);
            sum += p;
            for (int d = 0; d < hd; d++)
                acc[d] += p * (float)a.Pool[v + d];
        }

        long outRow = (long)m * shape.NumHeads * hd + (long)h * hd;
        float inv = 1f / sum;
        for (int d = 0; d < hd; d++)
            a.Output[outRow + d] = (Half)(acc[d] * inv);
    }
}

/// <summary>The buffers of one attention launch.</summary>
internal readonly struct AttentionArgs(
    ArrayView<float> qkv, ArrayView<Half> pool, ArrayView<int> pageLists, ArrayView<int> pageListStart,
    ArrayView<int> seqOfToken, ArrayView<int> positions, ArrayView<Half> output)
{
    /// <summary>Fused, rotated [q | k | v] rows, one per token.</summary>
    public readonly ArrayView<float> Qkv = qkv;
    /// <summary>The unified page pool.</summary>
    public readonly ArrayView<Half> Pool = pool;
    /// <summary>Every sequence's page list, concatenated; entry t is the page of the token at position t.</summary>
    public readonly ArrayView<int> PageLists = pageLists;
    /// <summary>Where each sequence's page list starts in <see cref="PageLists"/>.</summary>
    public readonly ArrayView<int> PageListStart = pageListStart;
    /// <summary>The batch sequence each token belongs to.</summary>
    public readonly ArrayView<int> SeqOfToken = seqOfToken;
    /// <summary>Each token's position in its sequence.</summary>
    public readonly ArrayView<int> Positions = positions;
    /// <summary>Attention output [tokens, heads * headDim], fp16 (the o_proj GEMM's input).</summary>
    public readonly ArrayView<Half> Output = output;
}
