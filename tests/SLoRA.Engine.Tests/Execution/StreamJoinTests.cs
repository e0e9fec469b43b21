using ILGPU;
using ILGPU.Runtime;
using SLoRA.Engine.Runtime;

namespace SLoRA.Engine.Tests.Execution;

/// <summary>
/// <see cref="StreamJoin"/> off CUDA: no event, the producer stream synchronized instead, so work
/// queued on the waiting stream sees what the producer wrote. (On CUDA the same ordering is
/// checked by the parity run on the GPU machine, whose LoRA shrinks run on the second stream.)
/// </summary>
public sealed class StreamJoinTests
{
    [Fact]
    public void On_the_cpu_accelerator_a_wait_orders_the_streams_through_the_host()
    {
        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var acc = device.Accelerator;
        using var join = StreamJoin.Create(acc);
        Assert.False(join.OnDevice);
        using var producer = acc.CreateStream();
        using var waiter = acc.CreateStream();
        using var buffer = acc.Allocate1D<int>(1024);
        var fill = acc.LoadAutoGroupedKernel<Index1D, ArrayView<int>, int>((i, v, value) => v[i] = value + i);
        var twice = acc.LoadAutoGroupedKernel<Index1D, ArrayView<int>>((i, v) => v[i] *= 2);

        fill(producer, (int)buffer.Length, buffer.View, 7);
        join.Wait(waiter, producer);
        twice(waiter, (int)buffer.Length, buffer.View);
        waiter.Synchronize();

        var values = buffer.GetAsArray1D();
        Assert.Equal(Enumerable.Range(0, 1024).Select(i => 2 * (7 + i)), values);
    }

    [Fact]
    public void A_signal_marks_the_work_queued_before_it_and_a_later_wait_orders_after_that_work()
    {
        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var acc = device.Accelerator;
        using var join = StreamJoin.Create(acc);
        using var producer = acc.CreateStream();
        using var waiter = acc.CreateStream();
        using var buffer = acc.Allocate1D<int>(256);
        var fill = acc.LoadAutoGroupedKernel<Index1D, ArrayView<int>, int>((i, v, value) => v[i] = value + i);
        var twice = acc.LoadAutoGroupedKernel<Index1D, ArrayView<int>>((i, v) => v[i] *= 2);

        // Nothing signalled yet: a wait is free.
        join.WaitFor(waiter);
        fill(producer, (int)buffer.Length, buffer.View, 3);
        join.Signal(producer);
        join.WaitFor(waiter);
        twice(waiter, (int)buffer.Length, buffer.View);
        waiter.Synchronize();

        Assert.Equal(Enumerable.Range(0, 256).Select(i => 2 * (3 + i)), buffer.GetAsArray1D());
    }
}
