using SLoRA.LoadTests.Workload;

namespace SLoRA.Engine.Tests.LoadTests;

/// <summary>
/// The trace's distributions against S-LoRA's formulas, on large traces that are only
/// generated, never run. Tolerances are several standard errors wide; the seeds are fixed, so
/// the tests are deterministic.
/// </summary>
public sealed class WorkloadStatisticsTests
{
    private const int N = 100_000;

    private static IReadOnlyList<TraceRequest> Trace(double rate = 2, double cv = 1, double alpha = 1, int adapters = 100) =>
        WorkloadGenerator.Generate(WorkloadSettings.S1 with
        {
            NumAdapters = adapters, RequestRate = rate, Cv = cv, Alpha = alpha, Duration = null, NumRequests = N, Seed = 2023,
        }, vocabSize: 32000);

    private static double[] Intervals(IReadOnlyList<TraceRequest> trace) =>
        [trace[0].ArrivalSeconds, .. trace.Zip(trace.Skip(1), (a, b) => b.ArrivalSeconds - a.ArrivalSeconds)];

    private static (double Mean, double Cv) MeanAndCv(double[] values)
    {
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
        return (mean, Math.Sqrt(variance) / mean);
    }

    [Theory]
    [InlineData(2.0, 1.0)]
    [InlineData(10.0, 1.0)]
    [InlineData(2.0, 0.5)]
    [InlineData(2.0, 2.0)]
    [InlineData(6.0, 4.0)]
    public void Inter_arrival_times_have_mean_1_over_R_and_the_given_cv(double rate, double cv)
    {
        var (mean, sampleCv) = MeanAndCv(Intervals(Trace(rate, cv)));
        Assert.InRange(mean * rate, 0.97, 1.03);
        Assert.InRange(sampleCv / cv, 0.95, 1.05);
    }

    [Fact]
    public void Poisson_arrivals_count_about_R_per_second()
    {
        var trace = Trace(rate: 5);
        double span = trace[^1].ArrivalSeconds;
        Assert.InRange(trace.Count / span, 4.85, 5.15);
    }

    [Theory]
    [InlineData(0.25)]
    [InlineData(1.0)]
    [InlineData(3.5)]
    public void Gamma_samples_have_the_right_mean_and_variance(double shape)
    {
        var random = new Xoshiro256StarStar(11);
        const double scale = 0.7;
        var values = new double[N];
        for (int i = 0; i < N; i++)
            values[i] = GammaSampler.Sample(ref random, shape, scale);
        Assert.All(values, v => Assert.True(v >= 0));
        var (mean, cv) = MeanAndCv(values);
        Assert.InRange(mean / (shape * scale), 0.97, 1.03);
        Assert.InRange(cv * Math.Sqrt(shape), 0.96, 1.04); // cv = 1/sqrt(shape)
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.3)]
    [InlineData(0.6)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void Adapter_popularity_follows_the_power_law_CDF(double alpha)
    {
        const int n = 50;
        var counts = new int[n];
        foreach (var r in Trace(alpha: alpha, adapters: n))
            counts[r.AdapterIndex]++;
        int below = 0;
        for (int k = 1; k <= n; k++)
        {
            below += counts[k - 1];
            double expected = Math.Pow((double)k / n, alpha); // P(floor(n U^(1/alpha)) < k) = (k/n)^alpha
            Assert.InRange((double)below / N, expected - 0.01, expected + 0.01);
        }
    }

    [Fact]
    public void Alpha_1_is_uniform_over_adapters()
    {
        var counts = new int[20];
        foreach (var r in Trace(alpha: 1, adapters: 20))
            counts[r.AdapterIndex]++;
        Assert.All(counts, c => Assert.InRange(c, N / 20 * 0.93, N / 20 * 1.07));
    }

    [Fact]
    public void Alpha_below_1_favours_low_indices_and_more_so_as_it_shrinks()
    {
        const int n = 100;
        double ShareOfFirstTen(double alpha) => Trace(alpha: alpha, adapters: n).Count(r => r.AdapterIndex < 10) / (double)N;
        double s1 = ShareOfFirstTen(1), s06 = ShareOfFirstTen(0.6), s03 = ShareOfFirstTen(0.3), s01 = ShareOfFirstTen(0.1);
        Assert.True(s1 < s06 && s06 < s03 && s03 < s01, $"shares {s1} {s06} {s03} {s01}");

        // Within one trace, popularity falls with the index (coarse bins, so noise cannot reorder them).
        var counts = new int[n];
        foreach (var r in Trace(alpha: 0.3, adapters: n))
            counts[r.AdapterIndex]++;
        var bins = Enumerable.Range(0, 5).Select(b => counts.Skip(b * 20).Take(20).Sum()).ToArray();
        Assert.Equal(bins.OrderDescending(), bins);
        Assert.True(counts[0] > 10 * counts[n - 1]);
    }

    [Fact]
    public void Adapter_index_is_floor_of_n_times_U_to_the_1_over_alpha()
    {
        Assert.Equal(0, WorkloadGenerator.AdapterIndex(0.0, 0.5, 10));
        Assert.Equal(2, WorkloadGenerator.AdapterIndex(0.25, 1, 10)); // floor(10 * 0.25)
        Assert.Equal(0, WorkloadGenerator.AdapterIndex(0.25, 0.5, 10)); // floor(10 * 0.0625)
        Assert.Equal(5, WorkloadGenerator.AdapterIndex(0.25, 2, 10)); // floor(10 * 0.5)
        Assert.Equal(9, WorkloadGenerator.AdapterIndex(Math.BitDecrement(1.0), 0.1, 10));
    }

    [Fact]
    public void Lengths_are_uniform_over_their_ranges()
    {
        var trace = Trace();
        foreach (var lengths in new[] { trace.Select(r => r.InputLength).ToArray(), trace.Select(r => r.OutputLength).ToArray() })
        {
            Assert.Equal(8, lengths.Min());
            Assert.Equal(511, lengths.Max());
            Assert.InRange(lengths.Average(), 259.5 - 1.5, 259.5 + 1.5); // (8 + 511) / 2, standard error 0.46
            Assert.InRange(lengths.Count(l => l < 260) / (double)N, 0.49, 0.51);
        }
    }
}
