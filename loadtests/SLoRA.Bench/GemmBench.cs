using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using SLoRA.Engine.Gemm;
using Half = ILGPU.Half;

namespace SLoRA.Bench;

/// <summary>One row of the GEMM benchmark.</summary>
public sealed record GemmResult(string Variant, int M, int N, int K, double MedianMicroseconds, double WeightGigabytesPerSecond, double Tflops);

/// <summary>
/// The base projections' GEMM (fp16 x and W, fp32 y) at decode-sized m, through cuBLAS with a
/// few compute types and algorithms, so that the engine can use the one that reads the weights
/// fastest.
/// </summary>
public static class GemmBench
{
    public static IReadOnlyList<GemmResult> Run(CudaAccelerator acc, Action<string> log)
    {
        var variants = new (string Name, int Compute, int Algo)[]
        {
            ("32F default", CublasGemm.ComputeType32F, CublasGemm.GemmDefault),
            ("32F tensor-op", CublasGemm.ComputeType32F, 99),
            ("32F_FAST_16F", 74, CublasGemm.GemmDefault),
        };
        var shapes = new (int N, int K)[] { (12288, 4096), (22016, 4096), (4096, 11008), (32000, 4096) };
        int[] ms = [1, 64, 256];
        var results = new List<GemmResult>();
        var random = new Random(3);
        foreach (var (n, k) in shapes)
        {
            using var w = acc.Allocate1D<Half>((long)n * k);
            using var x = acc.Allocate1D<Half>((long)ms.Max() * k);
            using var y = acc.Allocate1D<float>((long)ms.Max() * n);
            w.CopyFromCPU(Enumerable.Range(0, n * k).Select(_ => (Half)(float)(random.NextDouble() - 0.5)).ToArray());
            x.CopyFromCPU(Enumerable.Range(0, ms.Max() * k).Select(_ => (Half)(float)(random.NextDouble() - 0.5)).ToArray());
            foreach (var (name, compute, algo) in variants)
            {
                using var gemm = new CublasGemm(acc, compute, algo);
                var weight = gemm.Prepare(w.View, n, k);
                var stream = acc.DefaultStream;
                foreach (int m in ms)
                {
                    var times = new List<double>();
                    for (int i = 0; i < 23; i++)
                    {
                        stream.Synchronize();
                        var clock = Stopwatch.StartNew();
                        gemm.Run(stream, x.View, m, weight, y.View, accumulate: false);
                        stream.Synchronize();
                        if (i >= 3)
                            times.Add(clock.Elapsed.TotalSeconds);
                    }
                    double t = BandwidthProbe.Median(times);
                    var r = new GemmResult(name, m, n, k, t * 1e6, 2.0 * n * k / t / 1e9, 2.0 * m * n * k / t / 1e12);
                    results.Add(r);
                    log($"gemm {name,-14} m={m,3} n={n,5} k={k,5}: {r.MedianMicroseconds,8:F1} us, weights at {r.WeightGigabytesPerSecond,6:F0} GB/s, {r.Tflops:F1} TFLOP/s");
                }
            }
        }
        return results;
    }
}
