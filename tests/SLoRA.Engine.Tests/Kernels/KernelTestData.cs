using Half = ILGPU.Half;

namespace SLoRA.Engine.Tests.Kernels;

/// <summary>Random inputs, poisoned outputs and tolerance checks shared by the kernel tests.</summary>
internal static class KernelTestData
{
    /// <summary>A new seed on every run, or the one in SLORA_TEST_SEED to replay a failure (tests name their seed in every message).</summary>
    public static int FreshSeed() =>
        int.TryParse(Environment.GetEnvironmentVariable("SLORA_TEST_SEED"), out int seed) ? seed : Random.Shared.Next();

    /// <summary>Uniform values in ±[0.05, 1) × <paramref name="scale"/>: random signs, never zero.</summary>
    public static float[] Floats(Random rng, long count, float scale = 1f)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++)
            values[i] = NonZero(rng) * scale;
        return values;
    }

    /// <summary>As <see cref="Floats"/>, rounded to fp16.</summary>
    public static Half[] Halves(Random rng, long count, float scale = 1f)
    {
        var values = new Half[count];
        for (long i = 0; i < count; i++)
            values[i] = (Half)(NonZero(rng) * scale);
        return values;
    }

    /// <summary>An fp16 buffer of NaNs: any element a kernel should write but does not stays NaN.</summary>
    public static Half[] PoisonedHalves(long count)
    {
        var values = new Half[count];
        Array.Fill(values, Half.NaN);
        return values;
    }

    /// <summary>An fp32 buffer of NaNs.</summary>
    public static float[] PoisonedFloats(long count)
    {
        var values = new float[count];
        Array.Fill(values, float.NaN);
        return values;
    }

    /// <summary>A random permutation of 0..n-1.</summary>
    public static int[] Permutation(Random rng, int n)
    {
        var p = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(p);
        return p;
    }

    /// <summary>Fails unless |actual - expected| ≤ abs + rel·|expected| (NaN always fails).</summary>
    public static void AssertNear(double expected, double actual, double abs, double rel, Func<string> where)
    {
        double error = Math.Abs(actual - expected);
        if (!(error <= abs + rel * Math.Abs(expected)))
            Assert.Fail($"{where()}: expected {expected:R}, actual {actual:R} (error {error:E3}, allowed {abs + rel * Math.Abs(expected):E3})");
    }

    /// <summary>Fails unless the element still holds the poison it was filled with (the kernel must not write it).</summary>
    public static void AssertUntouched(Half actual, Func<string> where)
    {
        if (!Half.IsNaN(actual))
            Assert.Fail($"{where()}: must not be written, but holds {(float)actual:R}");
    }

    /// <summary>Fails unless the element still holds the poison it was filled with (the kernel must not write it).</summary>
    public static void AssertUntouched(float actual, Func<string> where)
    {
        if (!float.IsNaN(actual))
            Assert.Fail($"{where()}: must not be written, but holds {actual:R}");
    }

    private static float NonZero(Random rng)
    {
        float magnitude = 0.05f + 0.95f * rng.NextSingle();
        return rng.Next(2) == 0 ? magnitude : -magnitude;
    }
}
