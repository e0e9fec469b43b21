namespace SLoRA.LoadTests.Reporting;

/// <summary>Mean, percentiles and maximum of a set of latencies, in seconds.</summary>
/// <param name="Mean">Arithmetic mean.</param>
/// <param name="P50">Median.</param>
/// <param name="P90">90th percentile.</param>
/// <param name="P99">99th percentile.</param>
/// <param name="Max">Largest value.</param>
public sealed record LatencySummary(double Mean, double P50, double P90, double P99, double Max)
{
    /// <summary>The summary of <paramref name="seconds"/>, or null when there are none.</summary>
    public static LatencySummary? Of(IEnumerable<double> seconds)
    {
        var sorted = seconds.ToArray();
        if (sorted.Length == 0)
            return null;
        Array.Sort(sorted);
        return new LatencySummary(sorted.Average(), Percentiles.OfSorted(sorted, 50), Percentiles.OfSorted(sorted, 90),
            Percentiles.OfSorted(sorted, 99), sorted[^1]);
    }
}
