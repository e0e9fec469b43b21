using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace SLoRA.Engine.Runtime;

/// <summary>Which accelerator the engine runs on.</summary>
public enum AcceleratorPreference
{
    /// <summary>CUDA when a CUDA device is present, else the CPU accelerator.</summary>
    Auto,
    /// <summary>CUDA, failing when there is none.</summary>
    Cuda,
    /// <summary>ILGPU's CPU accelerator (CI, machines without a GPU).</summary>
    Cpu,
}

/// <summary>
/// An ILGPU context and the one accelerator the engine owns. CUDA contexts are bound per thread,
/// so whoever launches work must call <see cref="Bind"/> on its own thread first.
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    private ComputeDevice(Context context, Accelerator accelerator)
    {
        Context = context;
        Accelerator = accelerator;
    }

    /// <summary>The ILGPU context.</summary>
    public Context Context { get; }

    /// <summary>The accelerator all buffers and kernels of this device live on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>True on a CUDA device (cuBLAS GEMMs, GPU-tuned kernels).</summary>
    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;

    /// <summary>A one-line description for logs.</summary>
    public string Description => $"{Accelerator.AcceleratorType} '{Accelerator.Name}' ({Accelerator.MemorySize / (1 << 20)} MiB)";

    /// <summary>
    /// Creates the device. <paramref name="deviceIndex"/> picks among CUDA devices;
    /// <paramref name="cpuWarpSize"/> sets the CPU accelerator's warp (tests of warp kernels).
    /// </summary>
    public static ComputeDevice Create(AcceleratorPreference preference = AcceleratorPreference.Auto, int deviceIndex = 0, int cpuWarpSize = 2)
    {
        // A small CPU device: ILGPU's default CPU device costs milliseconds per launch, and the
        // engine's portable kernels need no large groups (one thread per output row or element).
        var cpu = new CPUDevice(numThreadsPerWarp: cpuWarpSize, numWarpsPerMultiprocessor: 1,
            numMultiprocessors: Math.Max(1, Environment.ProcessorCount));
        var context = Context.Create(builder =>
        {
            builder.Optimize(OptimizationLevel.O2).EnableAlgorithms();
            if (preference != AcceleratorPreference.Cpu)
                builder.Cuda();
            builder.CPU(cpu);
        });
        try
        {
            var cudaDevices = context.GetCudaDevices();
            if (preference == AcceleratorPreference.Cuda && cudaDevices.Count == 0)
                throw new InvalidOperationException("A CUDA accelerator was requested, but no CUDA device is present.");
            Accelerator accelerator;
            if (preference != AcceleratorPreference.Cpu && cudaDevices.Count > 0)
            {
                if (deviceIndex < 0 || deviceIndex >= cudaDevices.Count)
                    throw new ArgumentOutOfRangeException(nameof(deviceIndex), $"CUDA device {deviceIndex} requested; {cudaDevices.Count} present.");
                accelerator = cudaDevices[deviceIndex].CreateAccelerator(context);
            }
            else
            {
                accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
            }
            return new ComputeDevice(context, accelerator);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Binds the accelerator to the calling thread (required for CUDA).</summary>
    public void Bind() => Accelerator.Bind();

    /// <inheritdoc />
    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}
