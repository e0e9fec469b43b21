using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;

namespace SLoRA.Engine.Tests.Kernels;

public sealed class RmsNormKernelTests
{
    [Fact]
    public void Normalizes_every_row_with_the_identity_row_map()
    {
        const int rows = 5;
        Check(new RmsNormTestCase(new Random(11), sourceRows: rows, rowMap: Enumerable.Range(0, rows).ToArray(), hidden: 24));
    }

    [Fact]
    public void Normalizes_only_the_mapped_rows_in_map_order()
    {
        // As the final norm on the logit rows: a subset of the rows, out of order, one repeated.
        Check(new RmsNormTestCase(new Random(12), sourceRows: 9, rowMap: [8, 2, 5, 2], hidden: 40));
    }

    private static void Check(RmsNormTestCase testCase)
    {
        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var actual = testCase.Run(device.Accelerator, new RmsNormKernel(device.Accelerator).Launch);
        testCase.Verify(actual, "portable");
    }
}
