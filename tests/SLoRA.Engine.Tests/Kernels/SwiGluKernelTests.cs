using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;

namespace SLoRA.Engine.Tests.Kernels;

public sealed class SwiGluKernelTests
{
    // The odd launch size (3 × odd) leaves a partial thread group: the spare row catches stray writes.
    [Theory]
    [InlineData(1, 16)]
    [InlineData(6, 40)]
    [InlineData(3, 7)]
    public void Writes_silu_of_gate_times_up_for_every_token(int numTokens, int intermediate)
    {
        var rng = new Random(numTokens * 100 + intermediate);
        // Gates over ±8 reach both tails of silu (≈ 0 and ≈ identity).
        var gateUp = Floats(rng, (long)numTokens * 2 * intermediate, scale: 8f);
        var output = PoisonedHalves((long)(numTokens + 1) * intermediate);

        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var acc = device.Accelerator;
        using var dGateUp = acc.Allocate1D(gateUp);
        using var dOutput = acc.Allocate1D(output);
        new SwiGluKernel(acc).Launch(acc.DefaultStream, numTokens, dGateUp.View, dOutput.View, intermediate);
        acc.Synchronize();
        var actual = dOutput.GetAsArray1D();

        for (int m = 0; m < numTokens; m++)
        {
            for (int j = 0; j < intermediate; j++)
            {
                double g = gateUp[(long)m * 2 * intermediate + j];
                double u = gateUp[(long)m * 2 * intermediate + intermediate + j];
                double expected = g / (1 + Math.Exp(-g)) * u;
                // fp16 output: rounding is ≤ 2^-11 relative (4.9e-4); allow 1e-3 relative, plus
                // 1e-6 absolute for results in fp16's subnormal range.
                AssertNear(expected, (float)actual[m * intermediate + j], abs: 1e-6, rel: 1e-3,
                    () => $"token {m}, channel {j} (gate {g}, up {u})");
            }
        }
        for (int j = 0; j < intermediate; j++)
            AssertUntouched(actual[numTokens * intermediate + j], () => $"spare row, channel {j}");
    }
}
