using Microsoft.ML.Tokenizers;

namespace SLoRA.Engine.Tokenization;

/// <summary>
/// Builds a <see cref="TextTokenizer"/> from a SentencePiece BPE tokenizer.model (Llama, Llama 2,
/// Mistral) with <see cref="LlamaTokenizer"/>.
/// </summary>
internal static class SentencePieceLoader
{
    public const string FileName = "tokenizer.model";

    private const char WordBoundary = '\u2581'; // '▁', SentencePiece's spelling of a space

    public static TextTokenizer Load(string path, TokenizerConfig config)
    {
        byte[] model = ReadModel(path);

        // The model's BOS/EOS/UNK and the config's added tokens are matched in the text, as
        // Hugging Face does: chat templates spell "<s>" and expect id 1. The model's own pieces
        // are only known once it is parsed, hence the second parse when they were missing.
        Dictionary<string, int> specialTokens = config.AddedTokens.ToDictionary(t => t.Content, t => t.Id);
        LlamaTokenizer tokenizer = Create(path, model, specialTokens);
        bool added = specialTokens.TryAdd(tokenizer.BeginningOfSentenceToken, tokenizer.BeginningOfSentenceId)
            | specialTokens.TryAdd(tokenizer.EndOfSentenceToken, tokenizer.EndOfSentenceId)
            | specialTokens.TryAdd(tokenizer.UnknownToken, tokenizer.UnknownId);
        if (added)
        {
            tokenizer = Create(path, model, specialTokens);
        }

        IReadOnlyDictionary<string, int> vocabulary = tokenizer.Vocabulary;
        int? Lookup(string token) =>
            specialTokens.TryGetValue(token, out int id) || vocabulary.TryGetValue(token, out id) ? id : null;

        int? bos = TokenizerConfig.Resolve(config.Bos, Lookup, tokenizer.BeginningOfSentenceToken);
        int? eos = TokenizerConfig.Resolve(config.Eos, Lookup, tokenizer.EndOfSentenceToken);
        int[] controlIds = [tokenizer.BeginningOfSentenceId, tokenizer.EndOfSentenceId, tokenizer.UnknownId];

        bool stripsLeadingSpace = tokenizer.AddDummyPrefix && !tokenizer.TreatWhitespaceAsSuffix;
        return new TextTokenizer(
            tokenizer,
            TokenizerKind.SentencePiece,
            vocabSize: 1 + vocabulary.Values.Concat(specialTokens.Values).Max(),
            bosTokenId: bos,
            eosTokenId: eos,
            addBosByDefault: config.AddBosToken ?? true, // Llama's tokenizer adds BOS unless told otherwise
            skippedIds: config.AddedTokens.Where(t => t.Special).Select(t => t.Id).Concat(controlIds).Concat(new[] { bos, eos }.OfType<int>()),
            stripsLeadingSpace: stripsLeadingSpace,
            sentinel: stripsLeadingSpace ? FindSentinel(tokenizer, vocabulary, specialTokens) : null);
    }

    private static byte[] ReadModel(string path)
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

    private static LlamaTokenizer Create(string path, byte[] model, Dictionary<string, int> specialTokens)
    {
        try
        {
            return LlamaTokenizer.Create(
                new MemoryStream(model, writable: false),
                addBeginOfSentence: false, // TextTokenizer.Encode adds BOS itself when asked
                addEndOfSentence: false,
                specialTokens: specialTokens.Count > 0 ? PreTokenizerPatterns.LongestFirst(specialTokens) : null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Protobuf parse errors, a Unigram model, or a normalizer the library lacks all land here.
            throw new TokenizerLoadException(path, $"not a SentencePiece BPE model that Microsoft.ML.Tokenizers can load: {e.Message}", e);
        }
    }

    // "▁" alone decodes to nothing once its dummy prefix is stripped, so it is the natural
    // sentinel; any other piece starting with "▁" works too, its text being cut off again.
    private static DecodeSentinel? FindSentinel(LlamaTokenizer tokenizer, IReadOnlyDictionary<string, int> vocabulary, Dictionary<string, int> specialTokens)
    {
        string boundary = WordBoundary.ToString();
        int? id = vocabulary.TryGetValue(boundary, out int exact)
            ? exact
            : vocabulary.Where(p => p.Key.Length > 1 && p.Key[0] == WordBoundary && !specialTokens.ContainsKey(p.Key))
                .Select(p => (int?)p.Value)
                .FirstOrDefault();
        return id is int sentinel ? new DecodeSentinel(sentinel, tokenizer.Decode([sentinel], considerSpecialTokens: true)) : null;
    }
}
