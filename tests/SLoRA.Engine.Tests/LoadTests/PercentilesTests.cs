using SLoRA.LoadTests.Reporting;

namespace SLoRA.Engine.Tests.LoadTests;

public sealed class PercentilesTests
{
    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(50, 2.5)]
    [InlineData(90, 3.7)]
    [InlineData(99, 3.97)]
    [InlineData(100, 4.0)]
    public void Interpolate_linearly_between_ranks_as_numpy(double percent, double expected)
    {
        Assert.Equal(expected, Percentiles.Of([4.0, 1.0, 3.0, 2.0], percent), 12);
    }

    [Fact]
    public void Match_numpy_on_an_uneven_sample()
    {
        double[] values = [15, 20, 35, 40, 50];
        Assert.Equal(29.0, Percentiles.Of(values, 40), 12); // np.percentile([15,20,35,40,50], 40)
        Assert.Equal(35.0, Percentiles.Of(values, 50), 12);
        Assert.Equal(46.0, Percentiles.Of(values, 90), 12);
    }

    [Fact]
    public void One_value_is_every_percentile_and_none_is_an_error()
    {
        Assert.Equal(7.0, Percentiles.Of([7.0], 0));
        Assert.Equal(7.0, Percentiles.Of([7.0], 99));
        Assert.Throws<ArgumentException>(() => Percentiles.Of([], 50));
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.Of([1.0], 101));
    }

    [Fact]
    public void Summaries_hold_mean_percentiles_and_max()
    {
        var summary = LatencySummary.Of(Enumerable.Range(1, 100).Select(i => (double)i))!;
        Assert.Equal(50.5, summary.Mean, 12);
        Assert.Equal(50.5, summary.P50, 12);
        Assert.Equal(90.1, summary.P90, 12);
        Assert.Equal(99.01, summary.P99, 12);
        Assert.Equal(100.0, summary.Max);
        Assert.Null(LatencySummary.Of([]));
    }
}
