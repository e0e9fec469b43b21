using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using SLoRA.Engine.Kernels;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>
/// CPU accelerators with warps of several threads, each with the tuned kernels loaded, shared by
/// a test class: loading the kernels costs more than the small launches the tests make.
/// </summary>
/// <remarks>
/// Built like <see cref="Runtime.ComputeDevice.Create"/>'s CPU device, except that a multiprocessor
/// holds <see cref="WarpsPerMultiprocessor"/> warps: ComputeDevice's holds one, so its groups are
/// one warp at most and every tuned launch (groups of 4 warps) is refused there. That is tested on
/// its own (TunedKernelsTests.Tuned_kernels_launch_on_the_engines_cpu_device); this device lets the
/// kernels' arithmetic be tested meanwhile.
/// </remarks>
public sealed class WarpDevices : IDisposable
{
    /// <summary>Warps one group may hold: the tuned kernels launch groups of 4.</summary>
    public const int WarpsPerMultiprocessor = 4;

    private readonly Dictionary<int, WarpDevice> _devices = [];

    /// <summary>The accelerator with <paramref name="warpSize"/> threads per warp, created on first use.</summary>
    internal WarpDevice Get(int warpSize)
    {
        if (!_devices.TryGetValue(warpSize, out var device))
        {
            device = new WarpDevice(warpSize);
            _devices.Add(warpSize, device);
        }
        return device;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var device in _devices.Values)
            device.Dispose();
        _devices.Clear();
    }
}

/// <summary>One CPU accelerator and the kernels the tuned tests launch on it.</summary>
internal sealed class WarpDevice : IDisposable
{
    private readonly Context _context;
    private PrefillAttentionKernels? _prefill;
    private SegmentLoraKernels? _segment;

    public WarpDevice(int warpSize)
    {
        var cpu = new CPUDevice(numThreadsPerWarp: warpSize, numWarpsPerMultiprocessor: WarpDevices.WarpsPerMultiprocessor,
            numMultiprocessors: Math.Max(1, Environment.ProcessorCount));
        _context = Context.Create(builder => builder.Optimize(OptimizationLevel.O2).EnableAlgorithms().CPU(cpu));
        Accelerator = _context.GetCPUDevice(0).CreateAccelerator(_context);
        Tuned = new TunedKernels(Accelerator);
        Mbgmv = new MbgmvKernels(Accelerator);
        Lora = new LoraKernels(Accelerator);
        Flash = new FlashDecodeKernels(Accelerator);
    }

    public Accelerator Accelerator { get; }

    public int WarpSize => Accelerator.WarpSize;

    public TunedKernels Tuned { get; }

    /// <summary>The decode LoRA kernels (MBGMV) used on CUDA.</summary>
    public MbgmvKernels Mbgmv { get; }

    /// <summary>The flash-decoding attention used on CUDA.</summary>
    public FlashDecodeKernels Flash { get; }

    /// <summary>The tiled prefill attention, loaded on first use (only its own tests need it).</summary>
    public PrefillAttentionKernels Prefill => _prefill ??= new PrefillAttentionKernels(Accelerator);
    /// <summary>The prefill (token tile) LoRA kernels, loaded on first use.</summary>
    public SegmentLoraKernels Segment => _segment ??= new SegmentLoraKernels(Accelerator);

    /// <summary>The portable expand, which follows the tuned shrink in the runner.</summary>
    public LoraKernels Lora { get; }

    public void Dispose()
    {
        Accelerator.Dispose();
        _context.Dispose();
    }
}
