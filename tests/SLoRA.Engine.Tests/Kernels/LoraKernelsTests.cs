using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>
/// Shrink/expand against a plain reference (<see cref="LoraTestCase"/>): adapters of ranks 2, 5
/// and 8 (and per-module ranks) scattered over non-contiguous pool pages.
/// </summary>
public sealed class LoraKernelsTests
{
    // A slice of 20 divides no row length, so rows straddle page boundaries.
    private static readonly LoraDims s_dims = new(Hidden: 24, QDim: 16, KvDim: 8, Intermediate: 40, SliceElements: 20);

    // The groups the runner launches: q/k/v, o, gate/up, down (1, 2 and 3 modules).
    public static TheoryData<string, int, int> Groups => new()
    {
        { "qkv", 0, 3 },
        { "o", 3, 1 },
        { "gate_up", 4, 2 },
        { "down", 6, 1 },
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public void Adds_each_tokens_own_adapter_terms_and_leaves_base_tokens_and_unadapted_modules_alone(string name, int module0, int count)
    {
        // Base-model tokens (-1) between tokens of three adapters of different ranks.
        int[] slotOfToken = [3, -1, 0, 2, 2, 3, -1, 0, 3, -1, 2, 3, 0];
        Check(new LoraTestCase(new Random(name.Length * 31 + module0), s_dims, module0, count, slotOfToken));
    }

    [Fact]
    public void A_batch_of_only_base_model_tokens_writes_nothing() =>
        // Verify checks that the whole scratch stays poisoned and y keeps the base output.
        Check(new LoraTestCase(new Random(5), s_dims, 0, 3, [-1, -1, -1]));

    private static void Check(LoraTestCase testCase)
    {
        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var (y, shrunk) = testCase.Run(device.Accelerator, new LoraKernels(device.Accelerator).Apply);
        testCase.Verify(y, shrunk, "portable");
    }
}
