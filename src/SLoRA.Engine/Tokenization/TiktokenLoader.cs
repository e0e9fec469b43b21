using System.Buffers.Text;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace SLoRA.Engine.Tokenization;

/// <summary>
/// Builds a <see cref="TextTokenizer"/> from a tiktoken vocabulary file: one "base64-bytes rank"
/// line per token. The file does not say which pre-tokenizer regex goes with it, so the file
/// name picks one (r50k/p50k/gpt2, o200k) and cl100k's is the default; special tokens come from
/// tokenizer_config.json's added_tokens_decoder.
/// </summary>
internal static class TiktokenLoader
{
    public const string FileExtension = ".tiktoken";

    public static TextTokenizer Load(string path, TokenizerConfig config)
    {
        byte[] data = ReadFile(path);
        int maxRank = ValidateAndFindMaxRank(data, path);

        Dictionary<string, int> specialTokens = PreTokenizerPatterns.LongestFirst(
            config.AddedTokens.Select(t => KeyValuePair.Create(t.Content, t.Id)));
        TiktokenTokenizer tokenizer;
        try
        {
            tokenizer = TiktokenTokenizer.Create(
                new MemoryStream(data, writable: false),
                new RegexPreTokenizer(PatternFor(path), specialTokens),
                normalizer: null,
                specialTokens: specialTokens);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new TokenizerLoadException(path, $"Microsoft.ML.Tokenizers cannot load it: {e.Message}", e);
        }

        int? Lookup(string token) => specialTokens.TryGetValue(token, out int id) ? id : null;
        int? bos = TokenizerConfig.Resolve(config.Bos, Lookup, "<|begin_of_text|>", "<|endoftext|>");
        int? eos = TokenizerConfig.Resolve(config.Eos, Lookup, "<|end_of_text|>", "<|endoftext|>");

        return new TextTokenizer(
            tokenizer,
            TokenizerKind.Tiktoken,
            vocabSize: 1 + Math.Max(maxRank, specialTokens.Values.DefaultIfEmpty(-1).Max()),
            bosTokenId: bos,
            eosTokenId: eos,
            addBosByDefault: config.AddBosToken ?? false,
            skippedIds: config.AddedTokens.Where(t => t.Special).Select(t => t.Id).Concat(new[] { bos, eos }.OfType<int>()));
    }

    private static Regex PatternFor(string path)
    {
        string name = Path.GetFileName(path).ToLowerInvariant();
        if (name.Contains("r50k") || name.Contains("p50k") || name.Contains("gpt2"))
        {
            return PreTokenizerPatterns.P50k();
        }

        return name.Contains("o200k") ? PreTokenizerPatterns.O200k() : PreTokenizerPatterns.Cl100k();
    }

    private static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerLoadException(path, $"cannot be read ({e.Message})", e);
        }
    }

    // The library's own error for a bad line names neither line nor file; this check does.
    private static int ValidateAndFindMaxRank(byte[] data, string path)
    {
        int maxRank = -1;
        int lineNumber = 0;
        foreach (string line in Encoding.UTF8.GetString(data).Split('\n'))
        {
            lineNumber++;
            string trimmed = line.TrimEnd('\r');
            if (trimmed.Length == 0)
            {
                continue;
            }

            int space = trimmed.IndexOf(' ');
            if (space <= 0
                || !Base64.IsValid(trimmed.AsSpan(0, space))
                || !int.TryParse(trimmed.AsSpan(space + 1), out int rank)
                || rank < 0)
            {
                throw new TokenizerLoadException(path, $"line {lineNumber} is not '<base64 token bytes> <rank>'");
            }

            maxRank = Math.Max(maxRank, rank);
        }

        return maxRank >= 0 ? maxRank : throw new TokenizerLoadException(path, "the file holds no tokens");
    }
}
