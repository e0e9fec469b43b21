using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using SLoRA.Engine.Kernels;

namespace SLoRA.Bench;

/// <summary>
/// Writes the PTX ILGPU makes for engine kernels (SM_90, ISA 8.0, O2, as the engine compiles
/// them), without a GPU: to read what a kernel became, or to hand to <c>ptxas -v -arch=sm_90</c>
/// on the GPU machine for its registers and spills.
/// </summary>
public static class PtxDump
{
    /// <summary>The tensor-core MBGMM kernels and the fp32 blocked shrink they replace.</summary>
    private static readonly string[] DefaultKernels =
    [
        $"{nameof(SegmentLoraKernels)}.{nameof(SegmentLoraKernels.ShrinkMmaKernel)}",
        $"{nameof(SegmentLoraKernels)}.{nameof(SegmentLoraKernels.ExpandMmaKernel)}",
        $"{nameof(SegmentLoraKernels)}.{nameof(SegmentLoraKernels.ShrinkBlockedKernel)}",
    ];

    /// <summary><c>slora-bench ptx &lt;dir&gt; [Class.Method ...]</c>: one <c>Method.ptx</c> per kernel (classes of SLoRA.Engine.Kernels).</summary>
    public static int Run(string outDir, IReadOnlyList<string> kernels)
    {
        Directory.CreateDirectory(outDir);
        var assembly = typeof(SegmentLoraKernels).Assembly;
        using var context = Context.Create(b => b.Optimize(OptimizationLevel.O2).EnableAlgorithms());
        using var backend = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null!);
        foreach (string spec in kernels.Count > 0 ? kernels : DefaultKernels)
        {
            int dot = spec.LastIndexOf('.');
            var type = assembly.GetType($"{typeof(SegmentLoraKernels).Namespace}.{spec[..dot]}", throwOnError: true)!;
            var method = type.GetMethod(spec[(dot + 1)..], BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                ?? throw new ArgumentException($"no kernel method '{spec}'");
            bool implicitlyGrouped = method.GetParameters()[0].ParameterType.Name.StartsWith("Index", StringComparison.Ordinal);
            var entry = implicitlyGrouped
                ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
                : EntryPointDescription.FromExplicitlyGroupedKernel(method);
            var kernel = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            string path = Path.Combine(outDir, method.Name + ".ptx");
            File.WriteAllText(path, kernel.PTXAssembly);
            Console.WriteLine($"{path}: {kernel.PTXAssembly.Length} characters");
        }
        return 0;
    }
}
