using SLoRA.Engine.Model;

namespace SLoRA.Engine.Adapters;

/// <summary>
/// Deterministic random LoRA factors, for benchmarks and tests. Each factor has its own
/// generator seeded from (seed, tensor name), so the bits never depend on thread count.
/// </summary>
internal static class SyntheticLoraWeights
{
    /// <summary>B's std times sqrt(rank): makes B·A·x about a tenth of x's scale for any rank.</summary>
    private const float BStdTimesSqrtRank = 0.1f;

    public static LoraModuleWeights[] Generate(LlamaConfig baseConfig, LoraAdapterConfig config, int seed)
    {
        var targets = Enumerable.Range(0, baseConfig.NumLayers)
            .SelectMany(layer => WeightNames.ProjectionModules.Where(m => config.Targets(layer, m)).Select(m => (Layer: layer, Module: m)))
            .ToArray();
        var modules = new LoraModuleWeights[targets.Length];
        Parallel.For(0, targets.Length, i =>
        {
            var (layer, module) = targets[i];
            var rank = config.RankOf(layer, module);
            var shape = WeightNames.ProjectionShape(baseConfig, module);
            var (outFeatures, inFeatures) = (shape[0], shape[1]);
            var a = Uniform(LoraWeightNames.LoraA(layer, module), rank * inFeatures, 1f / MathF.Sqrt(inFeatures), seed);
            var b = Uniform(LoraWeightNames.LoraB(layer, module), outFeatures * rank, BStdTimesSqrtRank / MathF.Sqrt(rank), seed);
            modules[i] = new LoraModuleWeights(layer, module, rank, config.ScalingOf(layer, module), inFeatures, outFeatures, a, b);
        });

        return modules;
    }

    /// <summary>Uniform on [-a, a] with a = std·sqrt(3), which has the given std.</summary>
    private static Half[] Uniform(string name, int count, float std, int seed)
    {
        var random = new SplitMix64(SplitMix64.Mix(unchecked((ulong)seed) ^ Fnv1a.Hash64(name)));
        var spread = std * MathF.Sqrt(3f);
        var data = GC.AllocateUninitializedArray<Half>(count);
        foreach (ref var value in data.AsSpan())
        {
            value = (Half)(spread * random.NextSymmetric());
        }

        return data;
    }
}
