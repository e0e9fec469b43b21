namespace SLoRA.Engine.Generation;

/// <summary>
/// Picks the next token from one row of logits: greedy, or temperature sampling restricted by
/// top-k and top-p. Reuses its buffers; one sampler per engine thread.
/// </summary>
public sealed class Sampler
{
    private int[] _order = [];
    private float[] _probs = [];

    /// <summary>Chooses a token; <paramref name="logprob"/> is its log-probability under the unscaled logits.</summary>
    public int Sample(ReadOnlySpan<float> logits, SamplingParams p, ref SplitMixRandom random, out float logprob)
    {
        int token = p.Temperature == 0 ? ArgMax(logits) : SampleScaled(logits, p, ref random);
        logprob = LogSoftmaxAt(logits, token);
        return token;
    }

    /// <summary>Index of the largest logit (the first one on ties, as torch.argmax).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
                best = i;
        }
        return best;
    }

    private int SampleScaled(ReadOnlySpan<float> logits, SamplingParams p, ref SplitMixRandom random)
    {
        int v = logits.Length;
        if (_order.Length < v)
        {
            _order = new int[v];
            _probs = new float[v];
        }
        var order = _order.AsSpan(0, v);
        var probs = _probs.AsSpan(0, v);
        for (int i = 0; i < v; i++)
        {
            order[i] = i;
            probs[i] = logits[i];
        }
        // Sort candidates by logit, descending; ties by index so the result is reproducible.
        // The comparison reads the array: a lambda cannot capture a span (CS8175).
        float[] values = _probs;
        order.Sort((a, b) => values[a] != values[b] ? values[b].CompareTo(values[a]) : a.CompareTo(b));
        int keep = p.TopK > 0 ? Math.Min(p.TopK, v) : v;

        float max = probs[order[0]];
        double total = 0;
        for (int i = 0; i < keep; i++)
            total += Math.Exp((probs[order[i]] - max) / p.Temperature);

        if (p.TopP < 1f)
        {
            double cumulative = 0;
            for (int i = 0; i < keep; i++)
            {
                cumulative += Math.Exp((probs[order[i]] - max) / p.Temperature) / total;
                if (cumulative >= p.TopP)
                {
                    keep = i + 1;
                    break;
                }
            }
            total = 0;
            for (int i = 0; i < keep; i++)
                total += Math.Exp((probs[order[i]] - max) / p.Temperature);
        }

        double u = random.NextDouble() * total;
        double acc = 0;
        for (int i = 0; i < keep; i++)
        {
            acc += Math.Exp((probs[order[i]] - max) / p.Temperature);
            if (u < acc)
                return order[i];
        }
        return order[keep - 1];
    }

    private static float LogSoftmaxAt(ReadOnlySpan<float> logits, int token)
    {
        float max = float.NegativeInfinity;
        foreach (float x in logits)
            max = Math.Max(max, x);
        double sum = 0;
        foreach (float x in logits)
            sum += Math.Exp(x - max);
        return (float)(logits[token] - max - Math.Log(sum));
    }
}

/// <summary>SplitMix64: a small, fast, seedable random stream whose output is the same on every machine.</summary>
public struct SplitMixRandom(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
