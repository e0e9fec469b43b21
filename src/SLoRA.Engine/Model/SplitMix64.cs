namespace SLoRA.Engine.Model;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood): a tiny generator whose output depends only on its seed,
/// unlike <see cref="Random"/>, whose algorithm may change between .NET versions.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private const ulong Gamma = 0x9E3779B97F4A7C15;

    private ulong _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        _state += Gamma;
        return Mix(_state);
    }

    /// <summary>Next value uniform in [-1, 1), on a grid of 2^-23, computed exactly.</summary>
    public float NextSymmetric() => ((int)(Next() >> 40) * (1f / (1 << 23))) - 1f;

    /// <summary>The SplitMix64 finalizer: a bijective scramble, also used to derive independent seeds.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>Seed of the <paramref name="index"/>-th independent stream below <paramref name="seed"/>.</summary>
    public static ulong Derive(ulong seed, ulong index) => Mix(seed + ((index + 1) * Gamma));
}
