namespace SLoRA.Engine.Model;

/// <summary>64-bit FNV-1a: a stable string hash (<see cref="string.GetHashCode()"/> is randomized per process).</summary>
internal static class Fnv1a
{
    private const ulong OffsetBasis = 0xCBF29CE484222325;
    private const ulong Prime = 0x100000001B3;

    /// <summary>Hash of the UTF-16 code units of <paramref name="text"/>, low byte first.</summary>
    public static ulong Hash64(string text)
    {
        var hash = OffsetBasis;
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * Prime;
            hash = (hash ^ (byte)(c >> 8)) * Prime;
        }

        return hash;
    }
}
