namespace SLoRA.Grid;

/// <summary>
/// Rules for adapter ids. An id names a grain, a folder in the file-system store and a blob
/// prefix, so it is kept to characters that are safe in all three.
/// </summary>
public static class AdapterIds
{
    /// <summary>Longest id accepted.</summary>
    public const int MaxLength = 128;

    /// <summary>
    /// True for 1..128 characters of ASCII letters, digits, '.', '_' and '-', starting with a
    /// letter or digit (so never "." or "..").
    /// </summary>
    public static bool IsValid(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength || !char.IsAsciiLetterOrDigit(id[0]))
            return false;
        foreach (char c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
                return false;
        }
        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the rule when <paramref name="id"/> is not a valid adapter id.</summary>
    public static void Validate(string? id, string paramName = "adapterId")
    {
        if (!IsValid(id))
            throw new ArgumentException(Describe(id), paramName);
    }

    /// <summary>Why <paramref name="id"/> is not valid, for error messages.</summary>
    public static string Describe(string? id) =>
        $"'{id}' is not a valid adapter id: use 1 to {MaxLength} ASCII letters, digits, '.', '_' or '-', starting with a letter or digit.";
}
