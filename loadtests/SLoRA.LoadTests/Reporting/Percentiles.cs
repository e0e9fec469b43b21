namespace SLoRA.LoadTests.Reporting;

/// <summary>Percentiles as numpy.percentile computes them by default (linear interpolation between closest ranks).</summary>
public static class Percentiles
{
    /// <summary>
    /// The <paramref name="percent"/>-th percentile (0 … 100) of <paramref name="values"/>, in
    /// any order: with the values sorted, rank h = (n − 1)·p/100, interpolated between ⌊h⌋ and ⌈h⌉.
    /// </summary>
    public static double Of(IEnumerable<double> values, double percent)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return OfSorted(sorted, percent);
    }

    /// <summary>As <see cref="Of"/>, for values already sorted ascending.</summary>
    public static double OfSorted(IReadOnlyList<double> sorted, double percent)
    {
        if (sorted.Count == 0)
            throw new ArgumentException("the percentile of no values is undefined.", nameof(sorted));
        if (!(percent >= 0 && percent <= 100))
            throw new ArgumentOutOfRangeException(nameof(percent), percent, "must be in [0, 100]");
        double rank = (sorted.Count - 1) * percent / 100.0;
        int lo = (int)Math.Floor(rank);
        int hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
    }
}
