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

    /// <summary>
    /// One thread per (token, head slot, channel pair): head slots are the q heads, then k heads,
    /// then v heads; a pair is channels (i, i + headDim/2). Many small threads rather than one
    /// loop per head, so a GPU has work for all its lanes even at batch 1.
    /// </summary>
    public void Launch(AcceleratorStream stream, int numTokens, ArrayView<float> qkv, ArrayView<int> positions,
        ArrayView<int> kvPages, ArrayView<float> cos, ArrayView<float> sin, ArrayView<Half> pool, AttentionShape shape, int layer) =>
        _launch(stream, numTokens * (shape.NumHeads + 2 * shape.NumKvHeads) * (shape.HeadDim / 2), qkv, positions, kvPages, cos, sin, pool, shape, layer);

    internal static void Kernel(Index1D index, ArrayView<float> qkv, ArrayView<int> positions, ArrayView<int> kvPages,
        ArrayView<float> cos, ArrayView<float> sin, ArrayView<Half> pool, AttentionShape shape, int layer)
    {
        int hd = shape.HeadDim;
        int half = hd / 2;
        int slots = shape.NumHeads + 2 * shape.NumKvHeads;
        int i = index % half;
        int rest = index / half;
        int slot = rest % slots;
        int m = rest / slots;
        long row = (long)m * shape.QkvWidth + (long)slot * hd;
        long keyBase = shape.KeyOffset(kvPages[m], layer);

        if (slot >= shape.NumHeads + shape.NumKvHeads)
        {
            long dst = keyBase + shape.KvDim + (long)(slot - shape.NumHeads - shape.NumKvHeads) * hd;
            pool[dst + i] = (Half)qkv[row + i];
            pool[dst + i + half] = (Half)qkv[row + i + half];
            return;
        }

        long table = (long)positions[m] * half + i;
        float c = cos[table];
        float s = sin[table];
        float x1 = qkv[row + i];
        float x2 = qkv[row + i + half];
        float r1 = x1 * c - x2 * s;
        float r2 = x2 * c + x1 * s;
        qkv[row + i] = r1;
        qkv[row + i + half] = r2;
        if (slot >= shape.NumHeads)
        {
            long dst = keyBase + (long)(slot - shape.NumHeads) * hd;
            pool[dst + i] = (Half)r1;
            pool[dst + i + half] = (Half)r2;
        }
    }
}
