using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace SLoRA.Engine.Tokenization;

/// <summary>
/// Builds a <see cref="TextTokenizer"/> from a Hugging Face tokenizer.json of a byte-level BPE
/// model (GPT-2, Llama 3, Qwen 2, Mistral Nemo and the like) on Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/>.
/// </summary>
/// <remarks>
/// Read: model.vocab, model.merges ("a b" strings or [a, b] pairs), model.unk_token /
/// continuing_subword_prefix / end_of_word_suffix / fuse_unk / ignore_merges, added_tokens,
/// a normalizer of NFC or none, a pre_tokenizer of ByteLevel optionally preceded by one regex
/// Split, and a TemplateProcessing post_processor's leading special token (the BOS).
/// The decoder is assumed to be ByteLevel, which byte-level BPE implies.
/// </remarks>
internal static class HuggingFaceBpeLoader
{
    public const string FileName = "tokenizer.json";

    public static TextTokenizer Load(string path, TokenizerConfig config)
    {
        using JsonDocument document = JsonFile.Parse(path);
        JsonElement root = document.RootElement;
        JsonElement model = JsonFile.Required(root, "model", JsonValueKind.Object, path, "model");

        string type = JsonFile.OptionalString(model, "type", path, "model.type")
            ?? throw new TokenizerLoadException(path, "field 'model.type' is missing");
        if (type != "BPE")
        {
            throw Unsupported(path, $"field 'model.type' is '{type}'; only byte-level 'BPE' models are supported");
        }

        if (JsonFile.OptionalBool(model, "byte_fallback", path, "model.byte_fallback") == true)
        {
            throw Unsupported(path, "field 'model.byte_fallback' is true, which marks a SentencePiece-style BPE; only byte-level BPE is supported");
        }

        bool nfc = ReadNormalizer(root, path);
        (Regex split, bool addPrefixSpace) = ReadPreTokenizer(root, path);

        Dictionary<string, int> vocab = ReadVocab(model, path);
        List<string> merges = ReadMerges(model, path);
        List<AddedToken> addedTokens = ReadAddedTokens(root, path);
        Dictionary<string, int> specialTokens = PreTokenizerPatterns.LongestFirst(
            addedTokens.Select(t => KeyValuePair.Create(t.Content, t.Id)));

        BpeOptions options = new(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            SpecialTokens = specialTokens.Count > 0 ? specialTokens : null,
            PreTokenizer = new RegexPreTokenizer(split, specialTokens),
            Normalizer = nfc || addPrefixSpace ? new ByteLevelInputNormalizer(nfc, addPrefixSpace, specialTokens.Keys) : null,
            UnknownToken = JsonFile.OptionalString(model, "unk_token", path, "model.unk_token"),
            ContinuingSubwordPrefix = JsonFile.OptionalString(model, "continuing_subword_prefix", path, "model.continuing_subword_prefix"),
            EndOfWordSuffix = JsonFile.OptionalString(model, "end_of_word_suffix", path, "model.end_of_word_suffix"),
            FuseUnknownTokens = JsonFile.OptionalBool(model, "fuse_unk", path, "model.fuse_unk") ?? false,
        };

        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(options);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // The library checks that every merge and its result are in the vocabulary.
            throw new TokenizerLoadException(path, $"fields 'model.vocab' and 'model.merges' do not fit together: {e.Message}", e);
        }

        int? Lookup(string token) =>
            specialTokens.TryGetValue(token, out int id) || vocab.TryGetValue(token, out id) ? id : null;

        string? templateBos = ReadTemplateBos(root);
        int? bos = TokenizerConfig.Resolve(config.Bos, Lookup, templateBos, "<s>", "<|begin_of_text|>", "<|endoftext|>");
        int? eos = TokenizerConfig.Resolve(config.Eos, Lookup, "</s>", "<|end_of_text|>", "<|endoftext|>");

        bool ignoreMerges = JsonFile.OptionalBool(model, "ignore_merges", path, "model.ignore_merges") ?? false;
        return new TextTokenizer(
            bpe,
            TokenizerKind.BpeJson,
            vocabSize: 1 + Math.Max(vocab.Values.DefaultIfEmpty(-1).Max(), addedTokens.Select(t => t.Id).DefaultIfEmpty(-1).Max()),
            bosTokenId: bos,
            eosTokenId: eos,
            addBosByDefault: config.AddBosToken ?? templateBos is not null,
            skippedIds: addedTokens.Where(t => t.Special).Select(t => t.Id).Concat(new[] { bos, eos }.OfType<int>()),
            encode: ignoreMerges ? new IgnoreMergesEncoder(bpe).Encode : null);
    }

    private static TokenizerLoadException Unsupported(string path, string problem) =>
        new(path, problem) { IsUnsupportedFormat = true };

    // NFC is the only normalizer byte-level models ship with; anything else would change the text
    // in ways BpeTokenizer cannot reproduce, so it is refused rather than silently ignored.
    private static bool ReadNormalizer(JsonElement root, string path)
    {
        if (JsonFile.Optional(root, "normalizer", JsonValueKind.Object, path, "normalizer") is not { } normalizer)
        {
            return false;
        }

        string? type = JsonFile.OptionalString(normalizer, "type", path, "normalizer.type");
        if (type == "NFC")
        {
            return true;
        }

        if (type == "Sequence")
        {
            JsonElement steps = JsonFile.Required(normalizer, "normalizers", JsonValueKind.Array, path, "normalizer.normalizers");
            int index = 0;
            foreach (JsonElement step in steps.EnumerateArray())
            {
                string? stepType = step.ValueKind == JsonValueKind.Object
                    ? JsonFile.OptionalString(step, "type", path, $"normalizer.normalizers[{index}].type")
                    : null;
                if (stepType != "NFC")
                {
                    throw Unsupported(path, $"field 'normalizer.normalizers[{index}]' is '{stepType}'; only an NFC normalizer is supported");
                }

                index++;
            }

            return index > 0;
        }

        throw Unsupported(path, $"field 'normalizer' is '{type}'; only an NFC normalizer is supported");
    }

    private static (Regex Split, bool AddPrefixSpace) ReadPreTokenizer(JsonElement root, string path)
    {
        const string expected = "only byte-level BPE (pre_tokenizer 'ByteLevel', optionally after one regex 'Split') is supported";
        if (JsonFile.Optional(root, "pre_tokenizer", JsonValueKind.Object, path, "pre_tokenizer") is not { } preTokenizer)
        {
            throw Unsupported(path, $"field 'pre_tokenizer' is missing; {expected}");
        }

        string? type = JsonFile.OptionalString(preTokenizer, "type", path, "pre_tokenizer.type");
        if (type == "ByteLevel")
        {
            return ReadByteLevel(preTokenizer, split: null, path, "pre_tokenizer");
        }

        if (type != "Sequence")
        {
            throw Unsupported(path, $"field 'pre_tokenizer' is '{type}'; {expected}");
        }

        JsonElement[] steps = [.. JsonFile.Required(preTokenizer, "pretokenizers", JsonValueKind.Array, path, "pre_tokenizer.pretokenizers").EnumerateArray()];
        string[] types = [.. steps.Select((s, i) => s.ValueKind == JsonValueKind.Object
            ? JsonFile.OptionalString(s, "type", path, $"pre_tokenizer.pretokenizers[{i}].type") ?? "?"
            : "?")];
        string last = $"pre_tokenizer.pretokenizers[{steps.Length - 1}]";
        return types switch
        {
            ["ByteLevel"] => ReadByteLevel(steps[0], split: null, path, last),
            ["Split", "ByteLevel"] => ReadByteLevel(steps[1], ReadSplit(steps[0], path, "pre_tokenizer.pretokenizers[0]"), path, last),
            _ => throw Unsupported(path, $"field 'pre_tokenizer' is a Sequence of [{string.Join(", ", types)}]; {expected}"),
        };
    }

    private static (Regex Split, bool AddPrefixSpace) ReadByteLevel(JsonElement byteLevel, Regex? split, string path, string field)
    {
        bool addPrefixSpace = JsonFile.OptionalBool(byteLevel, "add_prefix_space", path, $"{field}.add_prefix_space") ?? true;
        bool useRegex = JsonFile.OptionalBool(byteLevel, "use_regex", path, $"{field}.use_regex") ?? true;
        if (split is not null && useRegex)
        {
            // Hugging Face would split twice; no shipped tokenizer does that, so it is not reproduced.
            throw Unsupported(path, $"field '{field}.use_regex' is true after a Split; only one regex split is supported");
        }

        return (split ?? (useRegex ? PreTokenizerPatterns.Gpt2() : PreTokenizerPatterns.WholeText()), addPrefixSpace);
    }

    // A Split that isolates regex matches; the patterns shipped with byte-level models match every
    // character, so the text between matches that "Isolated" would also keep is always empty.
    private static Regex ReadSplit(JsonElement split, string path, string field)
    {
        string? behavior = JsonFile.OptionalString(split, "behavior", path, $"{field}.behavior");
        if (behavior != "Isolated" || JsonFile.OptionalBool(split, "invert", path, $"{field}.invert") == true)
        {
            throw Unsupported(path, $"field '{field}' splits with behavior '{behavior}'; only 'Isolated', not inverted, is supported");
        }

        JsonElement pattern = JsonFile.Required(split, "pattern", JsonValueKind.Object, path, $"{field}.pattern");
        if (JsonFile.OptionalString(pattern, "String", path, $"{field}.pattern.String") is { } literal)
        {
            return new Regex(Regex.Escape(literal), RegexOptions.CultureInvariant);
        }

        string regex = JsonFile.Required(pattern, "Regex", JsonValueKind.String, path, $"{field}.pattern.Regex").GetString()!;
        try
        {
            return new Regex(regex, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new TokenizerLoadException(path, $"field '{field}.pattern.Regex' is not a regular expression .NET accepts: {e.Message}", e);
        }
    }

    private static Dictionary<string, int> ReadVocab(JsonElement model, string path)
    {
        JsonElement vocab = JsonFile.Required(model, "vocab", JsonValueKind.Object, path, "model.vocab");
        Dictionary<string, int> result = [];
        foreach (JsonProperty entry in vocab.EnumerateObject())
        {
            result[entry.Name] = JsonFile.TokenId(entry.Value, path, $"model.vocab[\"{entry.Name}\"]");
        }

        if (result.Count == 0)
        {
            throw new TokenizerLoadException(path, "field 'model.vocab' is empty");
        }

        return result;
    }

    // tokenizers before 0.20 write merges as "a b"; later ones as ["a", "b"] so that tokens may
    // hold spaces. BpeOptions takes "a b" only, which is lossless for byte-level vocabularies
    // (a space is spelled 'Ġ' there).
    private static List<string> ReadMerges(JsonElement model, string path)
    {
        List<string> merges = [];
        if (JsonFile.Optional(model, "merges", JsonValueKind.Array, path, "model.merges") is not { } array)
        {
            return merges;
        }

        int index = 0;
        foreach (JsonElement merge in array.EnumerateArray())
        {
            string field = $"model.merges[{index++}]";
            (string? left, string? right) = merge.ValueKind switch
            {
                JsonValueKind.String => SplitMerge(merge.GetString()!),
                JsonValueKind.Array when merge.GetArrayLength() == 2
                    && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String
                    => (merge[0].GetString(), merge[1].GetString()),
                _ => (null, null),
            };

            if (string.IsNullOrEmpty(left) || string.IsNullOrEmpty(right))
            {
                throw new TokenizerLoadException(path, $"field '{field}' must be \"a b\" or [\"a\", \"b\"], not {merge.GetRawText()}");
            }

            if (left.Contains(' ') || right.Contains(' '))
            {
                throw new TokenizerLoadException(path, $"field '{field}' merges tokens that contain a space, which byte-level BPE never does");
            }

            merges.Add($"{left} {right}");
        }

        return merges;

        static (string?, string?) SplitMerge(string merge)
        {
            string[] parts = merge.Split(' ');
            return parts.Length == 2 ? (parts[0], parts[1]) : (null, null);
        }
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root, string path)
    {
        List<AddedToken> tokens = [];
        if (JsonFile.Optional(root, "added_tokens", JsonValueKind.Array, path, "added_tokens") is not { } array)
        {
            return tokens;
        }

        int index = 0;
        foreach (JsonElement token in array.EnumerateArray())
        {
            string field = $"added_tokens[{index++}]";
            if (token.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerLoadException(path, $"field '{field}' must be an object");
            }

            int id = JsonFile.TokenId(JsonFile.Required(token, "id", JsonValueKind.Number, path, $"{field}.id"), path, $"{field}.id");
            string content = JsonFile.Required(token, "content", JsonValueKind.String, path, $"{field}.content").GetString()!;
            if (content.Length == 0)
            {
                throw new TokenizerLoadException(path, $"field '{field}.content' is empty");
            }

            bool special = JsonFile.OptionalBool(token, "special", path, $"{field}.special") ?? false;
            tokens.Add(new AddedToken(id, content, special));
        }

        return tokens;
    }

    // Llama 3 and others add BOS through a TemplateProcessing post-processor rather than a config
    // flag; its "single" template then starts with that special token. The post-processor only
    // informs defaults, so an unexpected shape is ignored rather than refused.
    private static string? ReadTemplateBos(JsonElement root)
    {
        if (!JsonFile.TryGet(root, "post_processor", out JsonElement processor) || processor.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (processor.TryGetProperty("processors", out JsonElement processors) && processors.ValueKind == JsonValueKind.Array)
        {
            return processors.EnumerateArray()
                .Where(p => p.ValueKind == JsonValueKind.Object)
                .Select(TemplateBos)
                .FirstOrDefault(bos => bos is not null);
        }

        return TemplateBos(processor);

        static string? TemplateBos(JsonElement processor) =>
            processor.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() == "TemplateProcessing"
            && processor.TryGetProperty("single", out JsonElement single) && single.ValueKind == JsonValueKind.Array
            && single.GetArrayLength() > 0 && single[0].ValueKind == JsonValueKind.Object
            && single[0].TryGetProperty("SpecialToken", out JsonElement first) && first.ValueKind == JsonValueKind.Object
            && first.TryGetProperty("id", out JsonElement id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
    }
}
