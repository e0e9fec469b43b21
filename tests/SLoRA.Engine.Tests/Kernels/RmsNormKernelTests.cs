using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;

namespace SLoRA.Engine.Tests.Kernels;

public sealed class RmsNormKernelTests
{
    private const float Eps = 1e-5f;

    [Fact]
    public void Normalizes_every_row_with_the_identity_row_map()
    {
        var rng = new Random(11);
        const int rows = 5, hidden = 24;
        Check(rng, sourceRows: rows, rowMap: Enumerable.Range(0, rows).ToArray(), hidden);
    }

    [Fact]
    public void Normalizes_only_the_mapped_rows_in_map_order()
    {
        // As the final norm on the logit rows: a subset of the rows, out of order, one repeated.
        var rng = new Random(12);
        Check(rng, sourceRows: 9, rowMap: [8, 2, 5, 2], hidden: 40);
    }

    private static void Check(Random rng, int sourceRows, int[] rowMap, int hidden)
    {
        int numRows = rowMap.Length;
        // Rows of different scales, so the normalization (not the weight) sets the output's size.
        var x = new float[(long)sourceRows * hidden];
        for (int r = 0; r < sourceRows; r++)
            Floats(rng, hidden, scale: 0.1f + 10f * r).CopyTo(x, (long)r * hidden);
        var weight = Halves(rng, hidden, scale: 2f);
        var y = PoisonedHalves((long)(numRows + 1) * hidden);

        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var acc = device.Accelerator;
        using var dX = acc.Allocate1D(x);
        using var dRows = acc.Allocate1D(rowMap);
        using var dWeight = acc.Allocate1D(weight);
        using var dY = acc.Allocate1D(y);
        new RmsNormKernel(acc).Launch(acc.DefaultStream, numRows, dX.View, dRows.View, dWeight.View, dY.View, hidden, Eps);
        acc.Synchronize();
        var actual = dY.GetAsArray1D();

        for (int r = 0; r < numRows; r++)
        {
            long src = (long)rowMap[r] * hidden;
            double meanSquare = 0;
            for (int d = 0; d < hidden; d++)
                meanSquare += (double)x[src + d] * x[src + d];
            double inv = 1 / Math.Sqrt(meanSquare / hidden + Eps);
            for (int d = 0; d < hidden; d++)
            {
                double expected = x[src + d] * inv * (float)weight[d];
                // fp16 output (≤ 2^-11 relative rounding) of an fp32 computation: 1e-3 relative.
                AssertNear(expected, (float)actual[r * hidden + d], abs: 1e-6, rel: 1e-3,
                    () => $"output row {r} (source row {rowMap[r]}), dim {d}");
            }
        }
        for (int d = 0; d < hidden; d++)
            AssertUntouched(actual[numRows * hidden + d], () => $"spare output row, dim {d}");
    }
}
