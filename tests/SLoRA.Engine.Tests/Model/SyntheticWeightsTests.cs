using System.Runtime.InteropServices;
using SLoRA.Engine.Model;

namespace SLoRA.Engine.Tests.Model;

public sealed class SyntheticWeightsTests
{
    [Fact]
    public void The_same_seed_gives_the_same_bits_and_another_seed_different_ones()
    {
        var a = ModelWeights.Synthetic(TestConfigs.Tiny(), seed: 42);
        var b = ModelWeights.Synthetic(TestConfigs.Tiny(), seed: 42);
        var c = ModelWeights.Synthetic(TestConfigs.Tiny(), seed: 43);

        Assert.Equal(Fingerprint(a), Fingerprint(b));
        Assert.All(a.Tensors, t => Assert.False(Bits(t).SequenceEqual(Bits(c.Get(t.Name))), t.Name));
    }

    [Fact]
    public void The_bits_are_pinned_so_any_machine_or_runtime_gives_the_same_model()
    {
        // Changing the generator changes every benchmark's model: update this only on purpose.
        Assert.Equal(0x104D220D9E93360BUL, Fingerprint(ModelWeights.Synthetic(TestConfigs.Tiny(), seed: 42)));
    }

    [Fact]
    public void Tensors_and_blocks_within_a_tensor_get_independent_streams()
    {
        // vocab 1024 x hidden 128 = 2 generator blocks of 65536 elements.
        var config = TestConfigs.Tiny() with { VocabSize = 1024, HiddenSize = 128, HeadDim = 32 };
        var weights = ModelWeights.Synthetic(config, seed: 9);

        var embedding = Bits(weights.Embedding);
        Assert.False(embedding[..65536].SequenceEqual(embedding[65536..]));
        Assert.False(Bits(weights.Get(WeightNames.QProj(0))).SequenceEqual(Bits(weights.Get(WeightNames.QProj(1)))));
    }

    [Fact]
    public void Values_have_the_scale_of_a_real_model()
    {
        var config = TestConfigs.Tiny() with { VocabSize = 512, HiddenSize = 64, IntermediateSize = 256 };
        var weights = ModelWeights.Synthetic(config, seed: 3);

        Assert.InRange(Std(weights.Embedding), 0.95, 1.05);
        Assert.InRange(Std(weights.Get(WeightNames.GateProj(0))), 0.95 / 8, 1.05 / 8);
        Assert.InRange(Std(weights.Get(WeightNames.DownProj(1))), 0.95 / 16, 1.05 / 16);
        Assert.InRange(Std(weights.LmHead), 0.95 / 8, 1.05 / 8);
        Assert.All(weights.Get(WeightNames.InputNorm(0)).Data, v => Assert.InRange((float)v, 0.9f, 1.1f));
        Assert.NotEqual(1f, (float)weights.Get(WeightNames.FinalNorm).Data[0]);
    }

    private static double Std(HostTensor tensor)
    {
        var values = tensor.Data.Select(h => (double)h).ToArray();
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
    }

    private static ReadOnlySpan<ushort> Bits(HostTensor tensor) => MemoryMarshal.Cast<Half, ushort>(tensor.Data);

    /// <summary>FNV-1a over every name and every bit, in checkpoint order.</summary>
    private static ulong Fingerprint(ModelWeights weights)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var tensor in weights.Tensors)
        {
            foreach (var unit in tensor.Name.Select(c => (ushort)c).Concat(Bits(tensor).ToArray()))
            {
                hash = (hash ^ unit) * 0x100000001B3UL;
            }
        }

        return hash;
    }
}
