using ILGPU.Runtime.Cuda;
using SLoRA.Engine.Runtime;

namespace SLoRA.Engine.Gemm;

/// <summary>Picks the GEMM that fits the device.</summary>
public static class GemmFactory
{
    /// <summary>cuBLAS on CUDA, the C# GEMM on the CPU accelerator.</summary>
    public static IGemm Create(ComputeDevice device) =>
        device.Accelerator is CudaAccelerator cuda ? new CublasGemm(cuda) : new CpuGemm();
}
