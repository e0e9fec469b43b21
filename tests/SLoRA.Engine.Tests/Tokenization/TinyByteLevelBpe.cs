using System.Text.Json.Nodes;

namespace SLoRA.Engine.Tests.Tokenization;

/// <summary>
/// Writes a small tokenizer.json in the shape Hugging Face's tokenizers library saves for a
/// byte-level BPE model: the 256 byte symbols, a few merges, and special added tokens.
/// </summary>
internal static class TinyByteLevelBpe
{
    public const string EndOfText = "<|endoftext|>";
    public const string Bos = "<s>";

    // Each merge makes the token of its two halves joined; "xyz" is in the vocabulary but no
    // merge builds it, which only ignore_merges can reach.
    private static readonly (string Left, string Right)[] Merges =
    [
        ("H", "e"), ("l", "l"), ("He", "ll"), ("Hell", "o"),
        ("Ġ", "w"), ("o", "r"), ("Ġw", "or"), ("l", "d"), ("Ġwor", "ld"),
    ];

    public static Dictionary<string, int> Vocab { get; } = BuildVocab();

    public static int EndOfTextId => Vocab.Count;

    public static int BosId => Vocab.Count + 1;

    public static JsonObject Build(bool mergesAsPairs = false, bool addPrefixSpace = false, bool ignoreMerges = false, bool bosTemplate = false)
    {
        JsonObject vocab = [];
        foreach ((string token, int id) in Vocab)
        {
            vocab[token] = id;
        }

        JsonArray merges = [];
        foreach ((string left, string right) in Merges)
        {
            merges.Add(mergesAsPairs ? new JsonArray(left, right) : JsonValue.Create($"{left} {right}"));
        }

        JsonObject root = new()
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(
                AddedToken(EndOfTextId, EndOfText),
                AddedToken(BosId, Bos)),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "ByteLevel",
                ["add_prefix_space"] = addPrefixSpace,
                ["trim_offsets"] = true,
                ["use_regex"] = true,
            },
            ["post_processor"] = bosTemplate ? BosTemplate() : ByteLevelProcessor(),
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["ignore_merges"] = ignoreMerges,
                ["vocab"] = vocab,
                ["merges"] = merges,
            },
        };
        return root;
    }

    public static int Id(string byteLevelToken) => Vocab[byteLevelToken];

    private static Dictionary<string, int> BuildVocab()
    {
        // Byte symbols in byte order, then merge results in merge order, as BPE training writes them.
        Dictionary<string, int> vocab = [];
        foreach (string symbol in ByteSymbols())
        {
            vocab[symbol] = vocab.Count;
        }

        foreach ((string left, string right) in Merges)
        {
            vocab.TryAdd(left + right, vocab.Count);
        }

        vocab["xyz"] = vocab.Count;
        return vocab;
    }

    private static IEnumerable<string> ByteSymbols() => Enumerable.Range(0, 256).Select(b => ByteLevelSymbol((byte)b));

    // GPT-2's bytes_to_unicode, written out again here so that the tests do not take the
    // engine's own table on trust.
    private static string ByteLevelSymbol(byte b)
    {
        int shifted = 0;
        for (int i = 0; i < 256; i++)
        {
            bool printable = i is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            if (i == b)
            {
                return ((char)(printable ? i : 256 + shifted)).ToString();
            }

            if (!printable)
            {
                shifted++;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(b));
    }

    private static JsonObject AddedToken(int id, string content) => new()
    {
        ["id"] = id,
        ["content"] = content,
        ["single_word"] = false,
        ["lstrip"] = false,
        ["rstrip"] = false,
        ["normalized"] = false,
        ["special"] = true,
    };

    private static JsonObject ByteLevelProcessor() => new()
    {
        ["type"] = "ByteLevel",
        ["add_prefix_space"] = true,
        ["trim_offsets"] = false,
        ["use_regex"] = true,
    };

    private static JsonObject BosTemplate() => new()
    {
        ["type"] = "TemplateProcessing",
        ["single"] = new JsonArray(
            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = Bos, ["type_id"] = 0 } },
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
        ["pair"] = new JsonArray(),
        ["special_tokens"] = new JsonObject(),
    };
}
