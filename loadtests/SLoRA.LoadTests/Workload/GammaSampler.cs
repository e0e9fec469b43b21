namespace SLoRA.LoadTests.Workload;

/// <summary>Gamma-distributed values by Marsaglia and Tsang's squeeze method (2000).</summary>
public static class GammaSampler
{
    /// <summary>
    /// A Gamma(<paramref name="shape"/>, <paramref name="scale"/>) value: mean shape·scale,
    /// coefficient of variation 1/√shape. Shapes below 1 (bursty arrivals, cv &gt; 1) use the
    /// boost Gamma(k) = Gamma(k + 1) · U^(1/k).
    /// </summary>
    public static double Sample(ref Xoshiro256StarStar random, double shape, double scale)
    {
        if (!(shape > 0) || !double.IsFinite(shape))
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "must be a positive number");
        if (!(scale > 0) || !double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "must be a positive number");
        if (shape < 1)
        {
            double boosted = SampleAtLeastOne(ref random, shape + 1);
            return boosted * Math.Pow(random.NextDoubleNonZero(), 1.0 / shape) * scale;
        }
        return SampleAtLeastOne(ref random, shape) * scale;
    }

    private static double SampleAtLeastOne(ref Xoshiro256StarStar random, double shape)
    {
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x = random.NextGaussian();
            double v = 1.0 + c * x;
            if (v <= 0)
                continue;
            v = v * v * v;
            double u = random.NextDoubleNonZero();
            double x2 = x * x;
            if (u < 1.0 - 0.0331 * x2 * x2)
                return d * v;
            if (Math.Log(u) < 0.5 * x2 + d * (1.0 - v + Math.Log(v)))
                return d * v;
        }
    }
}
