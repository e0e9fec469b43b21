namespace SLoRA.LoadTests.Workload;

/// <summary>
/// Makes S-LoRA's synthetic trace from a <see cref="WorkloadSpec"/>. Each quantity (adapter,
/// input length, output length, inter-arrival time, prompt) has its own random stream derived
/// from the seed, so request i is the same in a trace of any length, and a longer trace extends
/// a shorter one.
/// </summary>
public static class WorkloadGenerator
{
    /// <summary>Prompt ids start here by default: Llama's &lt;unk&gt;, &lt;s&gt; and &lt;/s&gt; are 0, 1 and 2.</summary>
    public const int DefaultMinTokenId = 3;

    private const ulong AdapterStream = 1, InputStream = 2, OutputStream = 3, IntervalStream = 4, PromptStream = 5;

    /// <summary>The adapters of <paramref name="spec"/>: adapter i has rank ranks[i mod |ranks|].</summary>
    public static IReadOnlyList<TraceAdapter> Adapters(WorkloadSpec spec)
    {
        spec.Validate();
        return [.. Enumerable.Range(0, spec.NumAdapters)
            .Select(i => new TraceAdapter(i, TraceAdapter.IdOf(i), spec.AdapterRanks[i % spec.AdapterRanks.Length]))];
    }

    /// <summary>
    /// The trace, in arrival order. As in S-LoRA: the adapter index is ⌊n·X⌋ with X = U^(1/α);
    /// lengths are uniform in their ranges; inter-arrival times are Gamma with shape 1/cv² and
    /// scale 1/(R·shape), and the first request arrives after the first interval.
    /// </summary>
    public static IReadOnlyList<TraceRequest> Generate(WorkloadSpec spec, int vocabSize, int minTokenId = DefaultMinTokenId)
    {
        var adapters = Adapters(spec);
        if (minTokenId < 0 || vocabSize <= minTokenId)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), $"prompt ids [{minTokenId}, {vocabSize}) form an empty range.");

        var adapterRandom = Stream(spec, AdapterStream);
        var inputRandom = Stream(spec, InputStream);
        var outputRandom = Stream(spec, OutputStream);
        var intervalRandom = Stream(spec, IntervalStream);
        double shape = 1.0 / (spec.Cv * spec.Cv);
        double scale = 1.0 / (spec.RequestRate * shape);
        ulong promptBase = Xoshiro256StarStar.Derive(spec.Seed, PromptStream);

        int count = spec.RequestCount;
        var requests = new TraceRequest[count];
        double clock = 0;
        for (int i = 0; i < count; i++)
        {
            var adapter = adapters[AdapterIndex(adapterRandom.NextDouble(), spec.Alpha, spec.NumAdapters)];
            int input = inputRandom.NextInt(spec.InputRange.Min, spec.InputRange.MaxExclusive);
            int output = outputRandom.NextInt(spec.OutputRange.Min, spec.OutputRange.MaxExclusive);
            clock += GammaSampler.Sample(ref intervalRandom, shape, scale);
            requests[i] = new TraceRequest(i, clock, adapter.Index, adapter.Id, adapter.Rank, input, output,
                Xoshiro256StarStar.Derive(promptBase, (ulong)i), minTokenId, vocabSize);
        }
        return requests;
    }

    /// <summary>
    /// ⌊n·U^(1/α)⌋ for U uniform in [0, 1): numpy.random.power(α) scaled to n adapters, so
    /// P(index &lt; k) = (k/n)^α.
    /// </summary>
    public static int AdapterIndex(double uniform, double alpha, int numAdapters)
    {
        double x = Math.Pow(uniform, 1.0 / alpha);
        return Math.Min(numAdapters - 1, (int)(x * numAdapters));
    }

    private static Xoshiro256StarStar Stream(WorkloadSpec spec, ulong stream) => new(Xoshiro256StarStar.Derive(spec.Seed, stream));
}
