using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// RMSNorm of fp32 rows into fp16, as Hugging Face's LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * w,
/// computed in fp32 and rounded once. A row map lets the final norm run on the logit rows only.
/// </summary>
internal sealed class RmsNormKernel(Accelerator accelerator)
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<int>, ArrayView<Half>, ArrayView<Half>, int, float> _launch =
        accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<Half>, ArrayView<Half>, int, float>(Kernel);

    /// <summary>y[r, :] = rmsnorm(x[rows[r], :]) * w, for r &lt; numRows.</summary>
    public void Launch(AcceleratorStream stream, int numRows, ArrayView<float> x, ArrayView<int> rows,
        ArrayView<Half> weight, ArrayView<Half> y, int hidden, float eps) =>
        _launch(stream, numRows, x, rows, weight, y, hidden, eps);

    internal static void Kernel(Index1D r, ArrayView<float> x, ArrayView<int> rows, ArrayView<Half> weight,
        ArrayView<Half> y, int hidden, float eps)
    {
        long src = (long)rows[r] * hidden;
        long dst = (long)(int)r * hidden;
        float sum = 0f;
        for (int d = 0; d < hidden; d++)
        {
            float v = x[src + d];
            sum += v * v;
        }
        float inv = 1f / MathF.Sqrt(sum / hidden + eps);
        for (int d = 0; d < hidden; d++)
            y[dst + d] = (Half)(x[src + d] * inv * (float)weight[d]);
    }
}
