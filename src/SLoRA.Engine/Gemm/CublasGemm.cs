using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Gemm;

/// <summary>
/// GEMM through cuBLAS <c>cublasGemmEx</c> (fp16 inputs, fp32 output and compute), by P/Invoke.
/// ILGPU's own CuBlas wrapper looks for libcublas.so.12 only, so the library is resolved here,
/// preferring CUDA 13's libcublas.so.13.
/// </summary>
public sealed class CublasGemm : IGemm
{
    private const string Library = "cublas";
    private const int OpN = 0, OpT = 1;
    private const int CudaR16F = 2, CudaR32F = 0;
    /// <summary>CUBLAS_COMPUTE_32F.</summary>
    public const int ComputeType32F = 68;
    /// <summary>CUBLAS_GEMM_DEFAULT.</summary>
    public const int GemmDefault = -1;

    private static readonly string[] Candidates =
    [
        "libcublas.so.13", "/usr/local/cuda-13.0/targets/x86_64-linux/lib/libcublas.so.13",
        "/usr/local/cuda/lib64/libcublas.so.13", "libcublas.so.12", "libcublas.so", "cublas64_13.dll", "cublas64_12.dll",
    ];

    private readonly IntPtr _handle;
    private readonly int _computeType;
    private readonly int _algorithm;

    static CublasGemm() => NativeLibrary.SetDllImportResolver(typeof(CublasGemm).Assembly, Resolve);

    /// <summary>
    /// Creates a cuBLAS handle; call on the thread that owns the (bound) accelerator.
    /// <paramref name="computeType"/> and <paramref name="algorithm"/> are cuBLAS's own codes
    /// (benchmarks compare them; the defaults are fp32 compute and cuBLAS's heuristic).
    /// </summary>
    public CublasGemm(CudaAccelerator accelerator, int computeType = ComputeType32F, int algorithm = GemmDefault)
    {
        _computeType = computeType;
        _algorithm = algorithm;
        accelerator.Bind();
        Check(cublasCreate_v2(out _handle), "cublasCreate");
    }

    /// <inheritdoc />
    public GemmWeight Prepare(ArrayView<Half> weight, int n, int k) => new(weight, n, k);

    /// <inheritdoc />
    public void Run(AcceleratorStream stream, ArrayView<Half> x, int m, GemmWeight weight, ArrayView<float> y, bool accumulate)
    {
        if (m == 0)
            return;
        Check(cublasSetStream_v2(_handle, ((CudaStream)stream).StreamPtr), "cublasSetStream");
        float alpha = 1f, beta = accumulate ? 1f : 0f;
        // Row-major y[m,n] = x[m,k]·Wᵀ is column-major yᵀ[n,m] = W[n,k]·xᵀ: W is column-major
        // [k,n] with ld k, so it is transposed; x is column-major [k,m] with ld k.
        Check(cublasGemmEx(_handle, OpT, OpN, weight.N, m, weight.K,
            ref alpha, weight.View.LoadEffectiveAddressAsPtr(), CudaR16F, weight.K,
            x.LoadEffectiveAddressAsPtr(), CudaR16F, weight.K,
            ref beta, y.LoadEffectiveAddressAsPtr(), CudaR32F, weight.N,
            _computeType, _algorithm), "cublasGemmEx");
    }

    /// <inheritdoc />
    public void Dispose() => cublasDestroy_v2(_handle);

    private static void Check(int status, string call)
    {
        if (status != 0)
            throw new InvalidOperationException($"{call} failed with cuBLAS status {status}.");
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library)
            return IntPtr.Zero;
        foreach (var candidate in Candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out var handle))
                return handle;
        }
        throw new DllNotFoundException("cuBLAS was not found (tried " + string.Join(", ", Candidates) + ").");
    }

    [DllImport(Library)] private static extern int cublasCreate_v2(out IntPtr handle);
    [DllImport(Library)] private static extern int cublasDestroy_v2(IntPtr handle);
    [DllImport(Library)] private static extern int cublasSetStream_v2(IntPtr handle, IntPtr stream);

    [DllImport(Library)]
    private static extern int cublasGemmEx(IntPtr handle, int transa, int transb, int m, int n, int k,
        ref float alpha, IntPtr a, int aType, int lda, IntPtr b, int bType, int ldb,
        ref float beta, IntPtr c, int cType, int ldc, int computeType, int algo);
}
