using System.Runtime.InteropServices;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace SLoRA.Engine.Runtime;

/// <summary>
/// Makes one stream wait, on the device, for the work already queued on another: a CUDA event
/// recorded on the first and waited on by the second (the host does not block). On devices
/// without events (ILGPU's CPU accelerator, whose launches complete before they return) the first
/// stream is synchronized instead, which gives the same order.
/// </summary>
/// <remarks>
/// One event serves any number of joins: CUDA's wait takes the event's most recent record at the
/// time of the call, so it may be recorded again right after. ILGPU 1.5 wraps cuEventCreate and
/// cuEventRecord (<see cref="CudaAPI"/>) but not cuStreamWaitEvent, which is taken from the driver
/// library ILGPU itself loads.
/// </remarks>
internal sealed class StreamJoin : IDisposable
{
    private static readonly StreamWaitEventFn? s_streamWaitEvent = LoadStreamWaitEvent();
    private IntPtr _event;
    private AcceleratorStream? _producer;

    private StreamJoin(IntPtr cudaEvent) => _event = cudaEvent;

    /// <summary>
    /// A join for streams of <paramref name="accelerator"/>: CUDA events on a CUDA accelerator whose
    /// driver exports cuStreamWaitEvent, host synchronization elsewhere. The accelerator must be
    /// bound to the calling thread.
    /// </summary>
    public static StreamJoin Create(Accelerator accelerator)
    {
        if (accelerator is CudaAccelerator && s_streamWaitEvent is not null
            && CudaAPI.CurrentAPI.CreateEvent(out var cudaEvent, CudaEventFlags.CU_EVENT_DISABLE_TIMING) == CudaError.CUDA_SUCCESS)
            return new StreamJoin(cudaEvent);
        return new StreamJoin(IntPtr.Zero);
    }

    /// <summary>True when the wait happens on the device (CUDA events), false when the host synchronizes.</summary>
    public bool OnDevice => _event != IntPtr.Zero;

    /// <summary>Work queued on <paramref name="waiter"/> after this call starts only after the work queued on <paramref name="producer"/> so far.</summary>
    public void Wait(AcceleratorStream waiter, AcceleratorStream producer)
    {
        Signal(producer);
        WaitFor(waiter);
    }

    /// <summary>Marks the work queued on <paramref name="producer"/> so far, for a later <see cref="WaitFor"/> (the latest mark counts).</summary>
    public void Signal(AcceleratorStream producer)
    {
        _producer = producer;
        if (_event != IntPtr.Zero)
            Check(CudaAPI.CurrentAPI.RecordEvent(_event, ((CudaStream)producer).StreamPtr), "cuEventRecord");
    }

    /// <summary>Work queued on <paramref name="waiter"/> after this call starts only after the work the last <see cref="Signal"/> marked.</summary>
    public void WaitFor(AcceleratorStream waiter)
    {
        if (_event == IntPtr.Zero)
        {
            _producer?.Synchronize();
            return;
        }
        if (_producer is null)
            return;
        int error = s_streamWaitEvent!(((CudaStream)waiter).StreamPtr, _event, 0);
        if (error != 0)
            throw new InvalidOperationException($"cuStreamWaitEvent failed with CUDA error {error}.");
    }

    public void Dispose()
    {
        if (_event != IntPtr.Zero)
            CudaAPI.CurrentAPI.DestroyEvent(_event);
        _event = IntPtr.Zero;
    }

    private static void Check(CudaError error, string call)
    {
        if (error != CudaError.CUDA_SUCCESS)
            throw new InvalidOperationException($"{call} failed: {error}.");
    }

    [UnmanagedFunctionPointer(CallingConvention.Winapi)]
    private delegate int StreamWaitEventFn(IntPtr stream, IntPtr cudaEvent, uint flags);

    private static StreamWaitEventFn? LoadStreamWaitEvent()
    {
        foreach (string name in new[] { "libcuda.so.1", "libcuda.so", "nvcuda.dll" })
        {
            if (NativeLibrary.TryLoad(name, out var library) && NativeLibrary.TryGetExport(library, "cuStreamWaitEvent", out var export))
                return Marshal.GetDelegateForFunctionPointer<StreamWaitEventFn>(export);
        }
        return null;
    }
}
