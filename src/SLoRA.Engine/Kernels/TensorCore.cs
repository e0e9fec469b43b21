using ILGPU;
using ILGPU.Runtime.Cuda;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// The tensor cores' warp-wide fp16 matrix product, <c>mma.sync.aligned.m16n8k16</c> with fp32
/// accumulators (ILGPU has no intrinsic for it: inline PTX on CUDA, the same product through warp
/// shuffles elsewhere, so the CPU accelerator runs the same kernels in tests). A warp of 32 lanes
/// computes D[16×8] = A[16×16] · B[16×8] + C; lane = 4 × g + t (g = lane / 4, t = lane % 4) holds:
/// <list type="bullet">
/// <item>A as four words of two fp16 each (the lower index in the low half): (row g, k 2t..2t+1),
/// (row g + 8, k 2t..2t+1), (row g, k 2t+8..2t+9), (row g + 8, k 2t+8..2t+9);</item>
/// <item>B as two words: (k 2t..2t+1, column g), (k 2t+8..2t+9, column g);</item>
/// <item>C and D as four floats: (row g, columns 2t, 2t+1), (row g + 8, columns 2t, 2t+1).</item>
/// </list>
/// The sum runs over k, so the kernels may give a lane any physical k for "its" k as long as A and
/// B agree: they hand each lane 16 consecutive elements of a row and read them with 16-byte loads.
/// </summary>
internal static class TensorCore
{
    /// <summary>Lanes of the warp the product needs.</summary>
    public const int WarpLanes = 32;

    /// <summary>D = A · B + C over the warp (every lane must call it, with the layout above).</summary>
    public static Float4 Mma(Float4 c, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
    {
        if (CudaAsm.IsSupported)
        {
            Ref<float> d0 = c.V0, d1 = c.V1, d2 = c.V2, d3 = c.V3;
            Input<uint> x0 = a0, x1 = a1, x2 = a2, x3 = a3, y0 = b0, y1 = b1;
            CudaAsm.EmitRef("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};",
                ref d0, ref d1, ref d2, ref d3, ref x0, ref x1, ref x2, ref x3, ref y0, ref y1);
            return new Float4 { V0 = d0.Value, V1 = d1.Value, V2 = d2.Value, V3 = d3.Value };
        }
        return Shuffled(c, a0, a1, a2, a3, b0, b1);
    }

    /// <summary>The same product from the lanes' registers through shuffles (any device with warps of 32).</summary>
    private static Float4 Shuffled(Float4 c, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
    {
        int lane = Warp.LaneIdx;
        int g = lane / 4, t = lane % 4;
        for (int tt = 0; tt < 4; tt++)
        {
            // Row g's and g + 8's elements k = 2tt, 2tt+1, 2tt+8, 2tt+9 live in lane 4g + tt;
            // column n's in lane 4n + tt.
            int rowLane = 4 * g + tt, col0 = 4 * (2 * t) + tt, col1 = col0 + 4;
            uint ra0 = Warp.Shuffle(a0, rowLane), ra1 = Warp.Shuffle(a1, rowLane);
            uint ra2 = Warp.Shuffle(a2, rowLane), ra3 = Warp.Shuffle(a3, rowLane);
            uint c0b0 = Warp.Shuffle(b0, col0), c0b1 = Warp.Shuffle(b1, col0);
            uint c1b0 = Warp.Shuffle(b0, col1), c1b1 = Warp.Shuffle(b1, col1);
            c.V0 += Dot2(ra0, c0b0) + Dot2(ra2, c0b1);
            c.V1 += Dot2(ra0, c1b0) + Dot2(ra2, c1b1);
            c.V2 += Dot2(ra1, c0b0) + Dot2(ra3, c0b1);
            c.V3 += Dot2(ra1, c1b0) + Dot2(ra3, c1b1);
        }
        return c;
    }

    private static float Dot2(uint x, uint y) => Half8.Lo(x) * Half8.Lo(y) + Half8.Hi(x) * Half8.Hi(y);

    /// <summary>Two floats rounded to fp16 in one word, <paramref name="low"/> in the low half (an A word from fp32 values).</summary>
    public static uint Pack(float low, float high) => Half8.Pack((Half)low, (Half)high);

    /// <summary>
    /// The word of fp16 elements (<paramref name="row0"/>[e], <paramref name="row1"/>[e]) for element e
    /// (0..7) of two 8-element chunks: a B word whose two k are two rows of a row-major matrix.
    /// </summary>
    public static uint Interleave(in Half8 row0, in Half8 row1, int e)
    {
        uint w0 = Word(row0, e / 2), w1 = Word(row1, e / 2);
        return (e & 1) == 0 ? (w0 & 0xFFFFu) | (w1 << 16) : (w0 >> 16) | (w1 & 0xFFFF0000u);
    }

    private static uint Word(in Half8 h, int i) => i == 0 ? h.W0 : i == 1 ? h.W1 : i == 2 ? h.W2 : h.W3;
}
