using System.Text.Json.Serialization;

namespace SLoRA.LoadTests.Workload;

/// <summary>A range of token counts [<paramref name="Min"/>, <paramref name="MaxExclusive"/>), as S-LoRA's input_range and output_range.</summary>
/// <param name="Min">Smallest count.</param>
/// <param name="MaxExclusive">One past the largest count.</param>
public readonly record struct TokenRange(int Min, int MaxExclusive)
{
    /// <summary>The largest count in the range.</summary>
    [JsonIgnore]
    public int MaxInclusive => MaxExclusive - 1;

    /// <summary>Parses "lo:hi" (hi exclusive), e.g. "8:512".</summary>
    public static TokenRange Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int lo) || !int.TryParse(parts[1], out int hi))
            throw new FormatException($"expected a range lo:hi (hi exclusive), e.g. 8:512; got '{text}'.");
        return new TokenRange(lo, hi);
    }

    /// <summary>Throws when the range is empty or counts below 1 are possible.</summary>
    public void Validate(string name)
    {
        if (Min < 1 || MaxExclusive <= Min)
            throw new ArgumentException($"{name} range [{Min}, {MaxExclusive}) must be non-empty with lengths of at least 1.", name);
    }

    /// <inheritdoc/>
    public override string ToString() => $"[{Min}, {MaxExclusive})";
}
