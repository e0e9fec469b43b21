using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// Applies rotary position embeddings to q and k in the fused qkv output (Hugging Face's
/// rotate_half convention: channel i pairs with i + headDim/2) and writes this layer's rotated K
/// and V rows of each token into the token's KV page.
/// </summary>
internal sealed class RopeKernel(Accelerator accelerator)
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<Half>, AttentionShape, int> _launch =
        accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<Half>, AttentionShape, int>(Kernel);

    /// <summary>One thread per (token, head slot); head slots are the q heads, then k heads, then v heads.</summary>
    public void Launch(AcceleratorStream stream, int numTokens, ArrayView<float> qkv, ArrayView<int> positions,
        ArrayView<int> kvPages, ArrayView<float> cos, ArrayView<float> sin, ArrayView<Half> pool, AttentionShape shape, int layer) =>
        _launch(stream, numTokens * (shape.NumHeads + 2 * shape.NumKvHeads), qkv, positions, kvPages, cos, sin, pool, shape, layer);

    internal static void Kernel(Index1D i, ArrayView<float> qkv, ArrayView<int> positions, ArrayView<int> kvPages,
        ArrayView<float> cos, ArrayView<float> sin, ArrayView<Half> pool, AttentionShape shape, int layer)
    {
        int slots = shape.NumHeads + 2 * shape.NumKvHeads;
        int m = i / slots;
        int slot = i - m * slots;
        int hd = shape.HeadDim;
        int half = hd / 2;
        long row = (long)m * shape.QkvWidth + (long)slot * hd;
        long table = (long)positions[m] * half;
        long keyBase = shape.KeyOffset(kvPages[m], layer);

        if (slot >= shape.NumHeads + shape.NumKvHeads)
        {
            long dst = keyBase + shape.KvDim + (long)(slot - shape.NumHeads - shape.NumKvHeads) * hd;
            for (int d = 0; d < hd; d++)
                pool[dst + d] = (Half)qkv[row + d];
            return;
        }

        for (int d = 0; d < half; d++)
        {
            float c = cos[table + d];
            float s = sin[table + d];
            float x1 = qkv[row + d];
            float x2 = qkv[row + d + half];
            qkv[row + d] = x1 * c - x2 * s;
            qkv[row + d + half] = x2 * c + x1 * s;
        }

        if (slot >= shape.NumHeads)
        {
            long dst = keyBase + (long)(slot - shape.NumHeads) * hd;
            for (int d = 0; d < hd; d++)
                pool[dst + d] = (Half)qkv[row + d];
        }
    }
}
