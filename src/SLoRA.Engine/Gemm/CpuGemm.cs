using System.Numerics;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Gemm;

/// <summary>
/// GEMM for ILGPU's CPU accelerator, whose buffers are host memory: plain C# over fp32 copies of
/// the weights (converted once in <see cref="Prepare"/>), parallel over output features.
/// </summary>
public sealed class CpuGemm : IGemm
{
    private float[] _x = [];

    /// <inheritdoc />
    public GemmWeight Prepare(ArrayView<Half> weight, int n, int k)
    {
        var host = new float[(long)n * k];
        ToFloat(weight, host);
        return new CpuGemmWeight(weight, n, k, host);
    }

    /// <inheritdoc />
    public void Run(AcceleratorStream stream, ArrayView<Half> x, int m, GemmWeight weight, ArrayView<float> y, bool accumulate)
    {
        var w = (CpuGemmWeight)weight;
        stream.Synchronize();
        int n = w.N, k = w.K;
        if (_x.Length < m * k)
            _x = new float[m * k];
        ToFloat(x.SubView(0, (long)m * k), _x);
        var xs = _x;
        var ws = w.Host;
        var yPtr = y.LoadEffectiveAddressAsPtr();
        const int rowsPerChunk = 32;
        int chunks = (n + rowsPerChunk - 1) / rowsPerChunk;
        Parallel.For(0, chunks, chunk =>
        {
            unsafe
            {
                var yp = (float*)yPtr;
                int end = Math.Min(n, (chunk + 1) * rowsPerChunk);
                for (int j = chunk * rowsPerChunk; j < end; j++)
                {
                    var wRow = new ReadOnlySpan<float>(ws, j * k, k);
                    for (int i = 0; i < m; i++)
                    {
                        float dot = Dot(new ReadOnlySpan<float>(xs, i * k, k), wRow);
                        long o = (long)i * n + j;
                        yp[o] = accumulate ? yp[o] + dot : dot;
                    }
                }
            }
        });
    }

    private static unsafe void ToFloat(ArrayView<Half> source, Span<float> destination)
    {
        var src = new ReadOnlySpan<System.Half>((void*)source.LoadEffectiveAddressAsPtr(), checked((int)source.Length));
        for (int i = 0; i < src.Length; i++)
            destination[i] = (float)src[i];
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var va = MemoryMarshal.Cast<float, Vector<float>>(a);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
        var acc = Vector<float>.Zero;
        for (int i = 0; i < va.Length; i++)
            acc += va[i] * vb[i];
        float sum = Vector.Sum(acc);
        for (int i = va.Length * Vector<float>.Count; i < a.Length; i++)
            sum += a[i] * b[i];
        return sum;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class CpuGemmWeight(ArrayView<Half> view, int n, int k, float[] host) : GemmWeight(view, n, k)
    {
        public float[] Host { get; } = host;
    }
}
