using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;

namespace SLoRA.Engine.Tests.Kernels;

public sealed class EmbeddingKernelTests
{
    // The odd launch size (3 × odd) leaves a partial thread group: the spare row catches stray writes.
    [Theory]
    [InlineData(1, 8)]
    [InlineData(7, 24)]
    [InlineData(3, 5)]
    public void Copies_each_tokens_row_of_the_table_into_the_residual_exactly(int numTokens, int hidden)
    {
        const int vocab = 50;
        var rng = new Random(numTokens * 1000 + hidden);
        var table = Halves(rng, (long)vocab * hidden);
        // Repeated tokens and the last vocabulary row included on purpose.
        var tokens = Enumerable.Range(0, numTokens).Select(_ => rng.Next(vocab)).ToArray();
        tokens[^1] = vocab - 1;
        if (numTokens > 2)
            tokens[1] = tokens[0];
        // One spare row past the batch: it must stay poisoned.
        var residual = PoisonedFloats((long)(numTokens + 1) * hidden);

        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var acc = device.Accelerator;
        using var dTokens = acc.Allocate1D(tokens);
        using var dTable = acc.Allocate1D(table);
        using var dResidual = acc.Allocate1D(residual);
        new EmbeddingKernel(acc).Launch(acc.DefaultStream, numTokens, dTokens.View, dTable.View, dResidual.View, hidden);
        acc.Synchronize();
        var actual = dResidual.GetAsArray1D();

        for (int m = 0; m < numTokens; m++)
        {
            for (int d = 0; d < hidden; d++)
            {
                // fp16 -> fp32 is exact, so the copy must be bit for bit.
                float expected = (float)table[(long)tokens[m] * hidden + d];
                Assert.True(expected == actual[m * hidden + d], $"token {m} (id {tokens[m]}), dim {d}: expected {expected}, actual {actual[m * hidden + d]}");
            }
        }
        for (int d = 0; d < hidden; d++)
            AssertUntouched(actual[numTokens * hidden + d], () => $"spare row, dim {d}");
    }
}
