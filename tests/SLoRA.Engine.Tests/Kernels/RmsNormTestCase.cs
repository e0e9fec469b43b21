using ILGPU;
using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>An RMSNorm kernel's launch: same contract as <see cref="RmsNormKernel.Launch"/>.</summary>
internal delegate void RmsNormLaunch(AcceleratorStream stream, int numRows, ArrayView<float> x, ArrayView<int> rows,
    ArrayView<Half> weight, ArrayView<Half> y, int hidden, float eps);

/// <summary>Random rows of different scales and a row map for an RMSNorm launch, and the check of its output in double.</summary>
internal sealed class RmsNormTestCase
{
    private const float Eps = 1e-5f;

    private readonly float[] _x;
    private readonly int[] _rowMap;
    private readonly Half[] _weight;
    private readonly int _hidden;

    public RmsNormTestCase(Random rng, int sourceRows, int[] rowMap, int hidden)
    {
        _rowMap = rowMap;
        _hidden = hidden;
        // Rows of different scales, so the normalization (not the weight) sets the output's size.
        _x = new float[(long)sourceRows * hidden];
        for (int r = 0; r < sourceRows; r++)
            Floats(rng, hidden, scale: 0.1f + 10f * r).CopyTo(_x, (long)r * hidden);
        _weight = Halves(rng, hidden, scale: 2f);
    }

    /// <summary>Runs <paramref name="launch"/>; returns its output with one spare, poisoned row.</summary>
    public Half[] Run(Accelerator acc, RmsNormLaunch launch)
    {
        using var dX = acc.Allocate1D(_x);
        using var dRows = acc.Allocate1D(_rowMap);
        using var dWeight = acc.Allocate1D(_weight);
        using var dY = acc.Allocate1D(PoisonedHalves((long)(_rowMap.Length + 1) * _hidden));
        launch(acc.DefaultStream, _rowMap.Length, dX.View, dRows.View, dWeight.View, dY.View, _hidden, Eps);
        acc.Synchronize();
        return dY.GetAsArray1D();
    }

    /// <summary>Checks y[r] = rmsnorm(x[rowMap[r]]) · w for every mapped row, and that the spare row is untouched.</summary>
    public void Verify(Half[] actual, string context)
    {
        int numRows = _rowMap.Length;
        for (int r = 0; r < numRows; r++)
        {
            long src = (long)_rowMap[r] * _hidden;
            double meanSquare = 0;
            for (int d = 0; d < _hidden; d++)
                meanSquare += (double)_x[src + d] * _x[src + d];
            double inv = 1 / Math.Sqrt(meanSquare / _hidden + Eps);
            for (int d = 0; d < _hidden; d++)
            {
                double expected = _x[src + d] * inv * (float)_weight[d];
                // fp16 output (≤ 2^-11 relative rounding) of an fp32 computation: 1e-3 relative.
                AssertNear(expected, (float)actual[r * _hidden + d], abs: 1e-6, rel: 1e-3,
                    () => $"{context}, hidden {_hidden}: output row {r} (source row {_rowMap[r]}), dim {d}");
            }
        }
        for (int d = 0; d < _hidden; d++)
            AssertUntouched(actual[numRows * _hidden + d], () => $"{context}: spare output row, dim {d}");
    }
}
