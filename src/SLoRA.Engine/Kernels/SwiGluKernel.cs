using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>SwiGLU: out = silu(gate) * up, reading the fused [gate | up] projection output.</summary>
internal sealed class SwiGluKernel(Accelerator accelerator)
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<Half>, int> _launch =
        accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<Half>, int>(Kernel);

    /// <summary>gateUp is [numTokens, 2 * intermediate]; output is [numTokens, intermediate].</summary>
    public void Launch(AcceleratorStream stream, int numTokens, ArrayView<float> gateUp, ArrayView<Half> output, int intermediate) =>
        _launch(stream, numTokens * intermediate, gateUp, output, intermediate);

    internal static void Kernel(Index1D i, ArrayView<float> gateUp, ArrayView<Half> output, int intermediate)
    {
        int m = i / intermediate;
        int j = i - m * intermediate;
        long row = (long)m * 2 * intermediate;
        float g = gateUp[row + j];
        float u = gateUp[row + intermediate + j];
        output[i] = (Half)(g / (1f + MathF.Exp(-g)) * u);
    }
}
