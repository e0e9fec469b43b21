using System.Text.RegularExpressions;

namespace SLoRA.Engine.Adapters;

/// <summary>
/// The two ways PEFT matches a regular expression against a module name, in .NET syntax (which
/// agrees with Python's <c>re</c> on the patterns configs use). Patterns come from files that
/// users upload, so every match has a timeout; the static <see cref="Regex"/> methods cache the
/// parsed patterns, so nothing here holds state.
/// </summary>
internal static class PeftRegex
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    /// <summary>Python's <c>re.fullmatch(pattern, name)</c>, used for a string <c>target_modules</c> or <c>exclude_modules</c>.</summary>
    /// <exception cref="RegexMatchTimeoutException">The pattern backtracks catastrophically.</exception>
    public static bool FullMatch(string pattern, string name) =>
        Regex.IsMatch(name, FullMatchPattern(pattern), RegexOptions.CultureInvariant, Timeout);

    /// <summary>
    /// PEFT's <c>get_pattern_key</c> test for <c>rank_pattern</c> and <c>alpha_pattern</c> keys,
    /// <c>re.match(rf"(.*\.)?({key})$", name)</c>: the key matches the whole name or a suffix
    /// that starts after a dot. A plain key such as <c>down_proj</c> is thus an exact-or-suffix match.
    /// </summary>
    /// <exception cref="RegexMatchTimeoutException">The key backtracks catastrophically.</exception>
    public static bool SuffixMatch(string key, string name) =>
        Regex.IsMatch(name, SuffixMatchPattern(key), RegexOptions.CultureInvariant, Timeout);

    /// <summary>Null when <paramref name="pattern"/> parses as a .NET regular expression, else why not.</summary>
    public static string? Problem(string pattern)
    {
        try
        {
            _ = new Regex(FullMatchPattern(pattern), RegexOptions.CultureInvariant, Timeout);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    private static string FullMatchPattern(string pattern) => $@"\A(?:{pattern})\z";

    private static string SuffixMatchPattern(string key) => $@"\A(?:.*\.)?(?:{key})\z";
}
