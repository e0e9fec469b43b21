using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;

namespace SLoRA.Engine.Tests.Kernels;

public sealed class RopeKernelTests
{
    private const int NumLayers = 3, Layer = 1, NumPages = 16, MaxPositions = 64;

    [Theory]
    [InlineData(4, 2, 16)]
    [InlineData(4, 4, 32)]
    public void Rotates_q_and_k_in_place_and_writes_rotated_k_and_raw_v_into_each_tokens_page(int numHeads, int numKvHeads, int headDim)
    {
        var shape = new AttentionShape(numHeads, numKvHeads, headDim, NumLayers);
        var rng = new Random(numHeads * 100 + numKvHeads * 10 + headDim);
        const int numTokens = 7;
        int half = headDim / 2;
        var positions = Enumerable.Range(0, numTokens).Select(_ => rng.Next(MaxPositions)).ToArray();
        positions[0] = 0;
        positions[^1] = MaxPositions - 1;
        // Each token's page, scattered over the pool.
        var kvPages = Permutation(rng, NumPages)[..numTokens];
        var (cos, sin) = Tables(headDim);
        var qkv = Floats(rng, (long)numTokens * shape.QkvWidth);
        var original = (float[])qkv.Clone();
        var pool = PoisonedHalves(NumPages * shape.PageElements);

        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var acc = device.Accelerator;
        using var dQkv = acc.Allocate1D(qkv);
        using var dPositions = acc.Allocate1D(positions);
        using var dPages = acc.Allocate1D(kvPages);
        using var dCos = acc.Allocate1D(cos);
        using var dSin = acc.Allocate1D(sin);
        using var dPool = acc.Allocate1D(pool);
        new RopeKernel(acc).Launch(acc.DefaultStream, numTokens, dQkv.View, dPositions.View, dPages.View, dCos.View, dSin.View, dPool.View, shape, Layer);
        acc.Synchronize();
        var actualQkv = dQkv.GetAsArray1D();
        var actualPool = dPool.GetAsArray1D();

        var expectedPool = new double?[actualPool.Length];
        for (int m = 0; m < numTokens; m++)
        {
            long row = (long)m * shape.QkvWidth;
            long key = shape.KeyOffset(kvPages[m], Layer);
            for (int slot = 0; slot < numHeads + 2 * numKvHeads; slot++)
            {
                bool isV = slot >= numHeads + numKvHeads;
                for (int d = 0; d < headDim; d++)
                {
                    long at = row + (long)slot * headDim + d;
                    double expected = isV ? original[at] : Rotated(original, row + (long)slot * headDim, d, half, cos, sin, positions[m]);
                    // fp32 rotation of fp32 inputs: a few fp32 roundings of values ≤ 1, so 1e-6 absolute.
                    AssertNear(expected, actualQkv[at], abs: 1e-6, rel: 0,
                        () => $"token {m} (position {positions[m]}), head slot {slot}, dim {d} in qkv");
                    if (slot >= numHeads)
                        expectedPool[key + (long)(slot - numHeads) * headDim + d] = expected;
                }
            }
        }

        for (long i = 0; i < actualPool.Length; i++)
        {
            long page = i / shape.PageElements;
            if (expectedPool[i] is { } expected)
            {
                // fp16 storage of values ≤ √2: half-ulp rounding ≤ 2^-11 relative, so 1e-3 relative.
                AssertNear(expected, (float)actualPool[i], abs: 1e-6, rel: 1e-3, () => $"pool page {page}, element {i - page * shape.PageElements}");
            }
            else
            {
                AssertUntouched(actualPool[i], () => $"pool page {page}, element {i - page * shape.PageElements} (no token's K/V of layer {Layer})");
            }
        }
    }

    /// <summary>Hugging Face's rotate_half: channel d &lt; half pairs with d + half, and (x1, x2) → (x1·c − x2·s, x2·c + x1·s).</summary>
    private static double Rotated(float[] qkv, long head, int d, int half, float[] cos, float[] sin, int position)
    {
        int i = d % half;
        double c = cos[(long)position * half + i], s = sin[(long)position * half + i];
        double x1 = qkv[head + i], x2 = qkv[head + i + half];
        return d < half ? x1 * c - x2 * s : x2 * c + x1 * s;
    }

    private static (float[] Cos, float[] Sin) Tables(int headDim)
    {
        int half = headDim / 2;
        var cos = new float[MaxPositions * half];
        var sin = new float[cos.Length];
        for (int p = 0; p < MaxPositions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = p / Math.Pow(10000, 2.0 * i / headDim);
                cos[p * half + i] = (float)Math.Cos(angle);
                sin[p * half + i] = (float)Math.Sin(angle);
            }
        }
        return (cos, sin);
    }
}
