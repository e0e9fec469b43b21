using SLoRA.Engine.Generation;

namespace SLoRA.Engine.Tests.Generation;

public sealed class SamplerTests
{
    private static float[] RandomLogits(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 8 - 4)).ToArray();
    }

    [Fact]
    public void Greedy_picks_the_argmax_and_reports_its_log_probability()
    {
        var logits = RandomLogits(100, 1);
        var random = new SplitMixRandom(1);
        int token = new Sampler().Sample(logits, SamplingParams.Greedy(), ref random, out float logprob);
        Assert.Equal(Array.IndexOf(logits, logits.Max()), token);
        double expected = logits[token] - Math.Log(logits.Sum(l => Math.Exp(l)));
        Assert.Equal(expected, logprob, 4);
    }

    [Fact]
    public void Top_k_one_and_a_tiny_top_p_are_greedy()
    {
        var sampler = new Sampler();
        for (int seed = 0; seed < 20; seed++)
        {
            var logits = RandomLogits(50, seed);
            int argmax = Array.IndexOf(logits, logits.Max());
            var random = new SplitMixRandom((ulong)seed);
            Assert.Equal(argmax, sampler.Sample(logits, new SamplingParams { Temperature = 2, TopK = 1 }, ref random, out _));
            Assert.Equal(argmax, sampler.Sample(logits, new SamplingParams { Temperature = 2, TopP = 1e-6f }, ref random, out _));
        }
    }

    [Fact]
    public void Sampling_follows_the_softmax_and_top_k_excludes_the_rest()
    {
        float[] logits = [2f, 1f, 0f, -1f];
        var counts = new int[4];
        var sampler = new Sampler();
        var random = new SplitMixRandom(123);
        const int n = 20_000;
        for (int i = 0; i < n; i++)
            counts[sampler.Sample(logits, new SamplingParams { Temperature = 1 }, ref random, out _)]++;
        double z = logits.Sum(l => Math.Exp(l));
        for (int i = 0; i < 4; i++)
            Assert.InRange(counts[i] / (double)n, Math.Exp(logits[i]) / z - 0.015, Math.Exp(logits[i]) / z + 0.015);

        var topTwo = new int[4];
        for (int i = 0; i < 5000; i++)
            topTwo[sampler.Sample(logits, new SamplingParams { Temperature = 1, TopK = 2 }, ref random, out _)]++;
        Assert.Equal(0, topTwo[2] + topTwo[3]);
        Assert.InRange(topTwo[0] / 5000.0, Math.E / (Math.E + 1) - 0.03, Math.E / (Math.E + 1) + 0.03);
    }

    [Fact]
    public void Top_p_keeps_the_smallest_set_reaching_p()
    {
        // Probabilities 0.5, 0.3, 0.2 (after softmax of their logs): top_p 0.7 keeps the first two.
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f)];
        var sampler = new Sampler();
        var random = new SplitMixRandom(9);
        var seen = new HashSet<int>();
        for (int i = 0; i < 2000; i++)
            seen.Add(sampler.Sample(logits, new SamplingParams { Temperature = 1, TopP = 0.7f }, ref random, out _));
        Assert.Equal([0, 1], seen.Order());
    }
}
