using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Runtime;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Tests.Kernels;

public sealed class AttentionKernelTests
{
    private const int NumLayers = 2, Layer = 1, SparePages = 5;

    /// <summary>One sequence of a launch: <paramref name="Cached"/> keys written by earlier steps, then <paramref name="New"/> tokens in this launch.</summary>
    private sealed record Seq(int Cached, int New)
    {
        public int Length => Cached + New;
    }

    [Theory]
    [InlineData(4, 2, 16)]
    [InlineData(4, 2, 32)]
    [InlineData(4, 4, 16)]
    [InlineData(4, 4, 32)]
    public void Prefill_of_sequences_of_different_lengths_in_one_launch_is_causal(int numHeads, int numKvHeads, int headDim) =>
        Check(numHeads, numKvHeads, headDim, seed: 1, [new(0, 5), new(0, 1), new(0, 9), new(0, 3)]);

    [Theory]
    [InlineData(4, 2, 16)]
    [InlineData(4, 2, 32)]
    [InlineData(4, 4, 16)]
    [InlineData(4, 4, 32)]
    public void Decode_tokens_attend_to_the_cache_written_before(int numHeads, int numKvHeads, int headDim) =>
        Check(numHeads, numKvHeads, headDim, seed: 2, [new(16, 1), new(0, 1), new(6, 1), new(31, 1)]);

    [Theory]
    [InlineData(4, 2, 16)]
    [InlineData(4, 4, 32)]
    public void A_mixed_batch_of_decode_and_chunked_prefill_attends_to_cache_and_chunk(int numHeads, int numKvHeads, int headDim) =>
        Check(numHeads, numKvHeads, headDim, seed: 3, [new(7, 1), new(0, 6), new(5, 4)]);

    private static void Check(int numHeads, int numKvHeads, int headDim, int seed, Seq[] seqs)
    {
        var shape = new AttentionShape(numHeads, numKvHeads, headDim, NumLayers);
        var rng = new Random(seed * 1000 + numHeads * 100 + numKvHeads * 10 + headDim);
        int numTokens = seqs.Sum(s => s.New);
        int usedPages = seqs.Sum(s => s.Length);

        // Every position of every sequence gets its own page, drawn from a random permutation of
        // the pool; spare pages and the page-list gaps hold NaN, so reading them poisons the output.
        var order = Permutation(rng, usedPages + SparePages);
        var pool = PoisonedHalves((usedPages + SparePages) * shape.PageElements);
        int trapPage = order[usedPages];
        var pageOf = new int[seqs.Length][];
        int next = 0;
        for (int s = 0; s < seqs.Length; s++)
        {
            pageOf[s] = order[next..(next + seqs[s].Length)];
            next += seqs[s].Length;
            foreach (int page in pageOf[s])
            {
                // K and V of every layer: the other layer's rows are valid data the kernel must not pick.
                Halves(rng, shape.PageElements).CopyTo(pool, page * shape.PageElements);
            }
        }

        // Page lists laid out in reverse sequence order, with a trap entry between lists.
        var pageLists = new List<int>();
        var pageListStart = new int[seqs.Length];
        for (int s = seqs.Length - 1; s >= 0; s--)
        {
            pageListStart[s] = pageLists.Count;
            pageLists.AddRange(pageOf[s]);
            pageLists.Add(trapPage);
        }

        var seqOfToken = new int[numTokens];
        var positions = new int[numTokens];
        int t = 0;
        for (int s = 0; s < seqs.Length; s++)
        {
            for (int p = seqs[s].Cached; p < seqs[s].Length; p++, t++)
            {
                seqOfToken[t] = s;
                positions[t] = p;
            }
        }

        // q scaled so softmax is far from uniform; the k and v columns of qkv are NaN: attention
        // must take K and V from the pool only.
        var qkv = PoisonedFloats((long)numTokens * shape.QkvWidth);
        for (int m = 0; m < numTokens; m++)
            Floats(rng, numHeads * headDim, scale: 3f).CopyTo(qkv, (long)m * shape.QkvWidth);
        int outWidth = numHeads * headDim;
        var output = PoisonedHalves((long)(numTokens + 1) * outWidth);

        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        var acc = device.Accelerator;
        using var dQkv = acc.Allocate1D(qkv);
        using var dPool = acc.Allocate1D(pool);
        using var dPageLists = acc.Allocate1D(pageLists.ToArray());
        using var dPageListStart = acc.Allocate1D(pageListStart);
        using var dSeqOfToken = acc.Allocate1D(seqOfToken);
        using var dPositions = acc.Allocate1D(positions);
        using var dOutput = acc.Allocate1D(output);
        var args = new AttentionArgs(dQkv.View, dPool.View, dPageLists.View, dPageListStart.View, dSeqOfToken.View, dPositions.View, dOutput.View);
        new AttentionKernel(acc).Launch(acc.DefaultStream, numTokens, args, shape, Layer);
        acc.Synchronize();
        var actual = dOutput.GetAsArray1D();

        for (int m = 0; m < numTokens; m++)
        {
            for (int h = 0; h < numHeads; h++)
            {
                var expected = Reference(qkv, pool, shape, pageOf[seqOfToken[m]], m, h, positions[m]);
                for (int d = 0; d < headDim; d++)
                {
                    // fp16 output of a convex mix of V values ≤ 1: rounding ≤ 2^-12 absolute,
                    // fp32 softmax and accumulation error ~1e-6; allow 1e-3 absolute + 1e-3 relative.
                    AssertNear(expected[d], (float)actual[(long)m * outWidth + h * headDim + d], abs: 1e-3, rel: 1e-3,
                        () => $"heads {numHeads}/{numKvHeads}, head_dim {headDim}: token {m} (sequence {seqOfToken[m]}, position {positions[m]}), head {h}, dim {d}");
                }
            }
        }
        for (int i = 0; i < outWidth; i++)
            AssertUntouched(actual[(long)numTokens * outWidth + i], () => $"spare output row, element {i}");
    }

    /// <summary>softmax(q·kᵀ/√d)·v over positions 0..position of the token's sequence, in double.</summary>
    private static double[] Reference(float[] qkv, Half[] pool, AttentionShape shape, int[] pages, int m, int h, int position)
    {
        int hd = shape.HeadDim;
        int kvHead = h / (shape.NumHeads / shape.NumKvHeads);
        long qRow = (long)m * shape.QkvWidth + (long)h * hd;
        var scores = new double[position + 1];
        for (int p = 0; p <= position; p++)
        {
            long k = shape.KeyOffset(pages[p], Layer) + (long)kvHead * hd;
            double dot = 0;
            for (int d = 0; d < hd; d++)
                dot += qkv[qRow + d] * (double)(float)pool[k + d];
            scores[p] = dot / Math.Sqrt(hd);
        }
        double max = scores.Max();
        var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
        double sum = weights.Sum();
        var output = new double[hd];
        for (int p = 0; p <= position; p++)
        {
            long v = shape.KeyOffset(pages[p], Layer) + shape.KvDim + (long)kvHead * hd;
            for (int d = 0; d < hd; d++)
                output[d] += weights[p] / sum * (float)pool[v + d];
        }
        return output;
    }
}
