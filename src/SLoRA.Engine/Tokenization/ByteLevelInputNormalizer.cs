using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace SLoRA.Engine.Tokenization;

/// <summary>
/// The two input rewrites of Hugging Face byte-level tokenizers that Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/> lacks: an NFC normalizer, and the ByteLevel pre-tokenizer's
/// add_prefix_space, which puts a space before every stretch of text between added tokens that
/// does not already start with one (so "Hello" encodes like " Hello").
/// </summary>
internal sealed class ByteLevelInputNormalizer : Normalizer
{
    private readonly bool _nfc;
    private readonly bool _addPrefixSpace;
    private readonly Regex? _addedTokens;

    /// <param name="nfc">Apply Unicode NFC first (a no-op where the host runs with invariant globalization).</param>
    /// <param name="addPrefixSpace">Add the ByteLevel prefix space.</param>
    /// <param name="addedTokens">Added tokens, longest first, which split the text as in the tokenizer itself.</param>
    public ByteLevelInputNormalizer(bool nfc, bool addPrefixSpace, IReadOnlyCollection<string> addedTokens)
    {
        _nfc = nfc;
        _addPrefixSpace = addPrefixSpace;
        if (addedTokens.Count > 0)
        {
            _addedTokens = new Regex(string.Join("|", addedTokens.Select(Regex.Escape)), RegexOptions.CultureInvariant);
        }
    }

    /// <inheritdoc />
    public override string Normalize(string original)
    {
        string text = _nfc ? original.Normalize(NormalizationForm.FormC) : original;
        return _addPrefixSpace ? AddPrefixSpaces(text) : text;
    }

    /// <inheritdoc />
    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());

    private string AddPrefixSpaces(string text)
    {
        if (_addedTokens is null)
        {
            return NeedsSpace(text) ? " " + text : text;
        }

        StringBuilder result = new(text.Length + 8);
        int start = 0;
        foreach (Match match in _addedTokens.Matches(text))
        {
            AppendSegment(result, text.AsSpan(start, match.Index - start));
            result.Append(match.ValueSpan);
            start = match.Index + match.Length;
        }

        AppendSegment(result, text.AsSpan(start));
        return result.ToString();
    }

    private static void AppendSegment(StringBuilder result, ReadOnlySpan<char> segment)
    {
        if (NeedsSpace(segment))
        {
            result.Append(' ');
        }

        result.Append(segment);
    }

    // Hugging Face checks for a literal space only, not for any whitespace.
    private static bool NeedsSpace(ReadOnlySpan<char> segment) => !segment.IsEmpty && segment[0] != ' ';
}
