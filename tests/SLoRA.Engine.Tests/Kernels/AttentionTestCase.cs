using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using static SLoRA.Engine.Tests.Kernels.KernelTestData;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>One sequence of an attention launch: <paramref name="Cached"/> keys written by earlier steps, then <paramref name="New"/> tokens in this launch.</summary>
internal sealed record AttentionSeq(int Cached, int New)
{
    public int Length => Cached + New;
}

/// <summary>An attention kernel's launch: same contract as <see cref="AttentionKernel.Launch"/>.</summary>
internal delegate void AttentionLaunch(AcceleratorStream stream, int numTokens, AttentionArgs args, AttentionShape shape, int layer);

/// <summary>
/// Random inputs for an attention launch over a paged KV cache, and the check of its output
/// against a double reference. Every position of every sequence has its own page, scattered
/// over the pool; spare pages, page-list gaps and the k/v columns of qkv hold NaN, so reading
/// anything but the token's own cached keys poisons the output.
/// </summary>
internal sealed class AttentionTestCase
{
    public const int NumLayers = 2, Layer = 1;
    private const int SparePages = 5;

    private readonly AttentionShape _shape;
    private readonly float[] _qkv;
    private readonly Half[] _pool;
    private readonly int[][] _pageOf;
    private readonly int[] _pageLists, _pageListStart, _seqOfToken, _positions;
    private readonly int _numTokens;

    /// <summary>Tokens of the launch.</summary>
    public int NumTokens => _numTokens;

    public AttentionTestCase(Random rng, int numHeads, int numKvHeads, int headDim, AttentionSeq[] seqs)
    {
        _shape = new AttentionShape(numHeads, numKvHeads, headDim, NumLayers);
        _numTokens = seqs.Sum(s => s.New);
        int usedPages = seqs.Sum(s => s.Length);

        var order = Permutation(rng, usedPages + SparePages);
        _pool = PoisonedHalves((usedPages + SparePages) * _shape.PageElements);
        int trapPage = order[usedPages];
        _pageOf = new int[seqs.Length][];
        int next = 0;
        for (int s = 0; s < seqs.Length; s++)
        {
            _pageOf[s] = order[next..(next + seqs[s].Length)];
            next += seqs[s].Length;
            foreach (int page in _pageOf[s])
            {
                // K and V of every layer: the other layer's rows are valid data the kernel must not pick.
                Halves(rng, _shape.PageElements).CopyTo(_pool, page * _shape.PageElements);
            }
        }

        // Page lists laid out in reverse sequence order, with a trap entry between lists.
        var pageLists = new List<int>();
        _pageListStart = new int[seqs.Length];
        for (int s = seqs.Length - 1; s >= 0; s--)
        {
            _pageListStart[s] = pageLists.Count;
            pageLists.AddRange(_pageOf[s]);
            pageLists.Add(trapPage);
        }
        _pageLists = [.. pageLists];

        _seqOfToken = new int[_numTokens];
        _positions = new int[_numTokens];
        int t = 0;
        for (int s = 0; s < seqs.Length; s++)
        {
            for (int p = seqs[s].Cached; p < seqs[s].Length; p++, t++)
            {
                _seqOfToken[t] = s;
                _positions[t] = p;
            }
        }

        // q scaled so softmax is far from uniform; the k and v columns of qkv are NaN: attention
        // must take K and V from the pool only.
        _qkv = PoisonedFloats((long)_numTokens * _shape.QkvWidth);
        for (int m = 0; m < _numTokens; m++)
            Floats(rng, numHeads * headDim, scale: 3f).CopyTo(_qkv, (long)m * _shape.QkvWidth);
    }

    private int OutWidth => _shape.NumHeads * _shape.HeadDim;

    /// <summary>Runs <paramref name="launch"/> on the case in layer <see cref="Layer"/>; returns its output with one spare, poisoned row.</summary>
    public Half[] Run(Accelerator acc, AttentionLaunch launch)
    {
        using var dQkv = acc.Allocate1D(_qkv);
        using var dPool = acc.Allocate1D(_pool);
        using var dPageLists = acc.Allocate1D(_pageLists);
        using var dPageListStart = acc.Allocate1D(_pageListStart);
        using var dSeqOfToken = acc.Allocate1D(_seqOfToken);
        using var dPositions = acc.Allocate1D(_positions);
        using var dOutput = acc.Allocate1D(PoisonedHalves((long)(_numTokens + 1) * OutWidth));
        var args = new AttentionArgs(dQkv.View, dPool.View, dPageLists.View, dPageListStart.View, dSeqOfToken.View, dPositions.View, dOutput.View);
        launch(acc.DefaultStream, _numTokens, args, _shape, Layer);
        acc.Synchronize();
        return dOutput.GetAsArray1D();
    }

    /// <summary>Checks every token's heads against <see cref="Reference"/> and that the spare row is untouched.</summary>
    public void Verify(Half[] actual, string context) => Verify(actual, context, written: _ => true);

    /// <summary>
    /// Checks the heads of the tokens <paramref name="written"/> selects against <see cref="Reference"/>,
    /// and that the other tokens' rows and the spare row are untouched (for kernels that serve a subset).
    /// </summary>
    public void Verify(Half[] actual, string context, Func<int, bool> written)
    {
        int hd = _shape.HeadDim;
        for (int m = 0; m < _numTokens; m++)
        {
            if (!written(m))
            {
                for (int i = 0; i < OutWidth; i++)
                    AssertUntouched(actual[(long)m * OutWidth + i], () => $"{context}: token {m} is in no tile, element {i}");
                continue;
            }
            for (int h = 0; h < _shape.NumHeads; h++)
            {
                var expected = Reference(m, h);
                for (int d = 0; d < hd; d++)
                {
                    // fp16 output of a convex mix of V values ≤ 1: rounding ≤ 2^-12 absolute,
                    // fp32 softmax and accumulation error ~1e-6; allow 1e-3 absolute + 1e-3 relative.
                    AssertNear(expected[d], (float)actual[(long)m * OutWidth + h * hd + d], abs: 1e-3, rel: 1e-3,
                        () => $"{context}, heads {_shape.NumHeads}/{_shape.NumKvHeads}, head_dim {hd}: token {m} (sequence {_seqOfToken[m]}, position {_positions[m]}), head {h}, dim {d}");
                }
            }
        }
        for (int i = 0; i < OutWidth; i++)
            AssertUntouched(actual[(long)_numTokens * OutWidth + i], () => $"{context}: spare output row, element {i}");
    }

    /// <summary>softmax(q·kᵀ/√d)·v over positions 0..position of token m's sequence, head h, in double.</summary>
    private double[] Reference(int m, int h)
    {
        int hd = _shape.HeadDim;
        int kvHead = h / (_shape.NumHeads / _shape.NumKvHeads);
        var pages = _pageOf[_seqOfToken[m]];
        int position = _positions[m];
        long qRow = (long)m * _shape.QkvWidth + (long)h * hd;
        var scores = new double[position + 1];
        for (int p = 0; p <= position; p++)
        {
            long k = _shape.KeyOffset(pages[p], Layer) + (long)kvHead * hd;
            double dot = 0;
            for (int d = 0; d < hd; d++)
                dot += _qkv[qRow + d] * (double)(float)_pool[k + d];
            scores[p] = dot / Math.Sqrt(hd);
        }
        double max = scores.Max();
        var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
        double sum = weights.Sum();
        var output = new double[hd];
        for (int p = 0; p <= position; p++)
        {
            long v = _shape.KeyOffset(pages[p], Layer) + _shape.KvDim + (long)kvHead * hd;
            for (int d = 0; d < hd; d++)
                output[d] += weights[p] / sum * (float)_pool[v + d];
        }
        return output;
    }
}
