namespace SLoRA.Engine.Model;

/// <summary>
/// Deterministic random Llama weights, for benchmarks (S-LoRA benchmarks use dummy weights too)
/// and tests. Every tensor is cut into fixed blocks, each with its own generator seeded from
/// (seed, tensor name, block index), so the bits never depend on thread count or scheduling.
/// Values are uniform with the spread a real model has: std 1 for embeddings,
/// 1/sqrt(fan_in) for projections (so activations keep their scale), 1 ± 0.1 for norm weights.
/// </summary>
internal static class SyntheticWeights
{
    private const int BlockElements = 1 << 16;
    private const float NormNoise = 0.1f;

    public static Dictionary<string, HostTensor> Generate(LlamaConfig config, int seed)
    {
        var tensors = WeightNames.Expected(config)
            .Select(e => new HostTensor(e.Name, e.Shape, GC.AllocateUninitializedArray<Half>(ArrayLength(e.Name, e.Shape))))
            .ToArray();
        var blocks = tensors
            .SelectMany(t => Enumerable.Range(0, (t.Data.Length + BlockElements - 1) / BlockElements).Select(b => (Tensor: t, Block: b)))
            .ToArray();
        var seeds = tensors.ToDictionary(t => t.Name, t => SplitMix64.Mix(unchecked((ulong)seed) ^ Fnv1a.Hash64(t.Name)));

        Parallel.For(0, blocks.Length, i =>
        {
            var (tensor, block) = blocks[i];
            var (center, spread) = Distribution(tensor);
            var start = block * BlockElements;
            var span = tensor.Data.AsSpan(start, Math.Min(BlockElements, tensor.Data.Length - start));
            var random = new SplitMix64(SplitMix64.Derive(seeds[tensor.Name], (ulong)block));
            foreach (ref var value in span)
            {
                value = (Half)(center + (spread * random.NextSymmetric()));
            }
        });

        return tensors.ToDictionary(t => t.Name);
    }

    /// <summary>Center and half-width of the uniform distribution; a uniform on [-a, a] has std a/sqrt(3).</summary>
    private static (float Center, float Spread) Distribution(HostTensor tensor)
    {
        if (tensor.Shape.Length == 1)
        {
            return (1f, NormNoise);
        }

        var std = tensor.Name == WeightNames.Embedding ? 1f : 1f / MathF.Sqrt(tensor.Shape[1]);
        return (0f, std * MathF.Sqrt(3f));
    }

    private static int ArrayLength(string name, int[] shape)
    {
        var count = Shapes.ElementCount(shape);
        return count <= Array.MaxLength
            ? (int)count
            : throw new ArgumentException($"Tensor '{name}' {Shapes.Format(shape)} is too large for one host array.");
    }
}
