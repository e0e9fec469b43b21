using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Gemm;

/// <summary>
/// The dense base projections: y = x · Wᵀ, with x [m, k] fp16 row-major, W [n, k] fp16 row-major
/// (Hugging Face's Linear layout) and y [m, n] fp32, fp32 accumulation. One implementation per
/// accelerator: cuBLAS on CUDA, a C# GEMM on the CPU accelerator.
/// </summary>
public interface IGemm : IDisposable
{
    /// <summary>Readies a weight that already lives on the device for repeated use.</summary>
    GemmWeight Prepare(ArrayView<Half> weight, int n, int k);

    /// <summary>y[0..m, 0..n) = x · Wᵀ, or y += x · Wᵀ when <paramref name="accumulate"/>.</summary>
    void Run(AcceleratorStream stream, ArrayView<Half> x, int m, GemmWeight weight, ArrayView<float> y, bool accumulate);
}

/// <summary>A weight matrix [n, k] on the device, readied by an <see cref="IGemm"/>.</summary>
public class GemmWeight(ArrayView<Half> view, int n, int k)
{
    /// <summary>The fp16 matrix on the device.</summary>
    public ArrayView<Half> View { get; } = view;

    /// <summary>Output features (rows).</summary>
    public int N { get; } = n;

    /// <summary>Input features (columns).</summary>
    public int K { get; } = k;
}
