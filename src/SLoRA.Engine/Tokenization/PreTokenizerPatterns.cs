using System.Text.RegularExpressions;

namespace SLoRA.Engine.Tokenization;

/// <summary>
/// The regular expressions that split text into pre-tokens (words) before BPE runs on each.
/// All of them match every character of the input, which the library's <c>RegexPreTokenizer</c>
/// relies on: text between matches would be dropped.
/// </summary>
internal static partial class PreTokenizerPatterns
{
    /// <summary>Hugging Face's ByteLevel pre-tokenizer (use_regex = true), i.e. GPT-2's split.</summary>
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    public static partial Regex Gpt2();

    /// <summary>The whole input as one pre-token (ByteLevel with use_regex = false and no Split before it).</summary>
    [GeneratedRegex(@"[\s\S]+")]
    public static partial Regex WholeText();

    // The tiktoken patterns below are tiktoken's own (openai_public.py) as Microsoft.ML.Tokenizers
    // translates them to .NET: atomic groups stand in for the possessive quantifiers .NET lacks.

    /// <summary>tiktoken's r50k/p50k (GPT-2, GPT-3) pattern.</summary>
    [GeneratedRegex(@"'(?:[sdmt]|ll|ve|re)| ?(?>\p{L}+)| ?(?>\p{N}+)| ?(?>[^\s\p{L}\p{N}]+)|(?>\s+)$|\s+(?!\S)|\s")]
    public static partial Regex P50k();

    /// <summary>tiktoken's cl100k pattern (GPT-3.5/4; Llama 3 uses an equivalent one).</summary>
    [GeneratedRegex(@"'(?i:[sdmt]|ll|ve|re)|(?>[^\r\n\p{L}\p{N}]?)(?>\p{L}+)|(?>\p{N}{1,3})| ?(?>[^\s\p{L}\p{N}]+)(?>[\r\n]*)|(?>\s+)$|\s*[\r\n]|\s+(?!\S)|\s")]
    public static partial Regex Cl100k();

    /// <summary>tiktoken's o200k pattern (GPT-4o).</summary>
    [GeneratedRegex(@"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")]
    public static partial Regex O200k();

    /// <summary>
    /// Orders special tokens longest first: the library joins them into one alternation, and
    /// leftmost-first matching would otherwise let "&lt;|im" win over "&lt;|im_start|&gt;".
    /// </summary>
    public static Dictionary<string, int> LongestFirst(IEnumerable<KeyValuePair<string, int>> tokens)
    {
        Dictionary<string, int> ordered = [];
        foreach (KeyValuePair<string, int> token in tokens.OrderByDescending(t => t.Key.Length).ThenBy(t => t.Key, StringComparer.Ordinal))
        {
            ordered.TryAdd(token.Key, token.Value);
        }

        return ordered;
    }
}
