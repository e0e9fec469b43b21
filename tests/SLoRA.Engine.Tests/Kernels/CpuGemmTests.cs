using ILGPU.Runtime;
using SLoRA.Engine.Gemm;
using SLoRA.Engine.Runtime;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>The CPU GEMM lives in Gemm/, but it is the kernel behind every projection, so it is tested beside them.</summary>
public sealed class CpuGemmTests
{
    // n = 37 spans two of the GEMM's 32-row chunks; k = 45 is no multiple of any SIMD width.
    [Theory]
    [InlineData(1, 37, 45, false)]
    [InlineData(5, 37, 45, false)]
    [InlineData(5, 37, 45, true)]
    [InlineData(3, 8, 16, true)]
    public void Computes_x_times_w_transposed_overwriting_or_accumulating(int m, int n, int k, bool accumulate)
    {
        var rng = new Random(m * 10000 + n * 100 + k + (accumulate ? 1 : 0));
        // The x and y buffers are larger than this call uses, as the runner's per-step buffers are:
        // y's rows past m are poisoned and must not be written.
        var x = Halves(rng, (long)(m + 2) * k);
        var w = Halves(rng, (long)n * k);
        var y = accumulate ? Floats(rng, (long)(m + 2) * n) : PoisonedFloats((long)(m + 2) * n);
        for (long i = (long)m * n; i < y.Length; i++)
            y[i] = float.NaN;
        var before = (float[])y.Clone();

        var actual = Run(m, n, k, x, w, y, accumulate);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double dot = 0, magnitude = accumulate ? Math.Abs(before[(long)i * n + j]) : 0;
                for (int c = 0; c < k; c++)
                {
                    double term = (double)(float)x[(long)i * k + c] * (float)w[(long)j * k + c];
                    dot += term;
                    magnitude += Math.Abs(term);
                }
                double expected = (accumulate ? before[(long)i * n + j] : 0) + dot;
                // fp32 accumulation of exact fp16 products: error ≲ k · 2^-24 · Σ|terms|; allow
                // 1e-4 relative to that sum (orders of magnitude above it, far below any real fault).
                AssertNear(expected, actual[(long)i * n + j], abs: 1e-4 * magnitude, rel: 0,
                    () => $"m={m} n={n} k={k} accumulate={accumulate}: y[{i}, {j}]");
            }
        }
        for (long i = (long)m * n; i < actual.Length; i++)
            AssertUntouched(actual[i], () => $"y element {i}, past the m rows");
    }

    [Fact]
    public void A_second_run_with_more_rows_than_the_first_uses_the_new_input()
    {
        // The GEMM keeps an fp32 scratch copy of x between calls; it must grow and be refreshed.
        var rng = new Random(77);
        const int n = 9, k = 12;
        var w = Halves(rng, (long)n * k);
        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var acc = device.Accelerator;
        using var gemm = new CpuGemm();
        using var dW = acc.Allocate1D(w);
        var weight = gemm.Prepare(dW.View, n, k);
        foreach (int m in new[] { 2, 6, 1 })
        {
            var x = Halves(rng, (long)m * k);
            using var dX = acc.Allocate1D(x);
            using var dY = acc.Allocate1D(PoisonedFloats((long)m * n));
            gemm.Run(acc.DefaultStream, dX.View, m, weight, dY.View, accumulate: false);
            acc.Synchronize();
            var actual = dY.GetAsArray1D();
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double expected = 0, magnitude = 0;
                    for (int c = 0; c < k; c++)
                    {
                        double term = (double)(float)x[i * k + c] * (float)w[j * k + c];
                        expected += term;
                        magnitude += Math.Abs(term);
                    }
                    AssertNear(expected, actual[i * n + j], abs: 1e-4 * magnitude, rel: 0, () => $"run with m={m}: y[{i}, {j}]");
                }
            }
        }
    }

    private static float[] Run(int m, int n, int k, Half[] x, Half[] w, float[] y, bool accumulate)
    {
        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var acc = device.Accelerator;
        using var gemm = new CpuGemm();
        using var dX = acc.Allocate1D(x);
        using var dW = acc.Allocate1D(w);
        using var dY = acc.Allocate1D(y);
        var weight = gemm.Prepare(dW.View, n, k);
        gemm.Run(acc.DefaultStream, dX.View, m, weight, dY.View, accumulate);
        acc.Synchronize();
        return dY.GetAsArray1D();
    }
}
