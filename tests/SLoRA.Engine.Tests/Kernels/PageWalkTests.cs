using ILGPU;
using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>
/// The two ways the LoRA kernels walk an adapter's pages without dividing per element
/// (<see cref="PagePosition"/> steps by a fixed stride, <see cref="PageCursor"/> follows a growing
/// element) against <see cref="LoraLayout.Address"/>, on a random page list, from random starts,
/// with strides below, equal to and above the slice size. Run in a kernel on the CPU accelerator,
/// as the GPU kernels use them.
/// </summary>
public sealed class PageWalkTests(WarpDevices devices) : IClassFixture<WarpDevices>
{
    private const int Layers = 3;
    private const int Pages = 128;
    private const int Steps = 40;

    [Theory]
    [InlineData(3, 1)]
    [InlineData(3, 7)]
    [InlineData(8, 8)]
    [InlineData(20, 13)]
    [InlineData(24, 50)]
    [InlineData(8192, 4096)]
    [InlineData(8192, 16384)]
    public void Stepping_and_following_reach_the_same_pool_offsets_as_dividing(int slice, int stride)
    {
        var acc = devices.Get(4).Accelerator;
        int seed = FreshSeed();
        var rng = new Random(seed);
        const int slot = 1;
        var layout = new LoraLayout(Layers, slice, modulesPerLayer: 7, maxPagesPerAdapter: Pages, alignedStarts: true);
        // Slot 1's pages are a random permutation of pool pages; slot 0's list is filled with -1.
        var pageLists = Enumerable.Repeat(-1, 2 * Pages).ToArray();
        var pages = Enumerable.Range(0, 4 * Pages).OrderBy(_ => rng.Next()).Take(Pages).ToArray();
        pages.CopyTo(pageLists, Pages);
        int layer = rng.Next(Layers);
        // Elements stay inside the slot's pages.
        int start = rng.Next(Math.Max(1, Pages * slice - Steps * stride));
        Assert.True(start + (long)(Steps - 1) * stride < (long)Pages * slice);

        using var lists = acc.Allocate1D(pageLists);
        using var pool = acc.Allocate1D<ILGPU.Half>(1);
        using var entries = acc.Allocate1D<LoraModuleEntry>(1);
        using var slots = acc.Allocate1D<int>(1);
        using var shrunk = acc.Allocate1D<float>(1);
        using var output = acc.Allocate1D<long>(3 * Steps);
        var args = new LoraArgs(pool.View, lists.View, entries.View, slots.View, shrunk.View);
        var kernel = acc.LoadAutoGroupedStreamKernel<Index1D, LoraArgs, LoraLayout, int, int, int, int, ArrayView<long>>(Walk);
        kernel(1, args, layout, slot, layer, start, stride, output.View);
        acc.Synchronize();
        var got = output.GetAsArray1D();

        for (int i = 0; i < Steps; i++)
        {
            long element = start + (long)i * stride;
            int page = (int)(element / slice);
            long expected = ((long)pages[page] * Layers + layer) * slice + element % slice;
            string at = $"seed {seed}, slice {slice}, stride {stride}, start {start}, step {i}";
            Assert.True(expected == got[3 * i], $"{at}: Address gave {got[3 * i]}, expected {expected}");
            Assert.True(expected == got[3 * i + 1], $"{at}: PagePosition gave {got[3 * i + 1]}, expected {expected}");
            Assert.True(expected == got[3 * i + 2], $"{at}: PageCursor gave {got[3 * i + 2]}, expected {expected}");
        }
    }

    private static void Walk(Index1D index, LoraArgs a, LoraLayout layout, int slot, int layer, int start, int stride, ArrayView<long> output)
    {
        var step = PagePosition.Of(layout, stride);
        var position = PagePosition.Of(layout, start);
        var cursor = PageCursor.Seek(a, layout, slot, layer, start);
        for (int i = 0; i < Steps; i++)
        {
            int element = start + i * stride;
            cursor = cursor.Follow(a, layout, slot, layer, element);
            output[3 * i] = layout.Address(a.PageLists, slot, layer, element);
            output[3 * i + 1] = position.Address(a, layout, slot, layer);
            output[3 * i + 2] = cursor.Offset + element;
            position = position.Advance(layout, step);
        }
    }
}
