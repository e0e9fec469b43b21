using System.Text.Json;

namespace SLoRA.Engine.Tokenization;

/// <summary>A token added on top of a model's vocabulary (Hugging Face "added tokens").</summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The exact text that is encoded as this one token.</param>
/// <param name="Special">Whether it is a control token that decoding leaves out.</param>
internal readonly record struct AddedToken(int Id, string Content, bool Special);

/// <summary>A special-token string named by a config file, remembered with where it came from for error messages.</summary>
internal sealed record ConfiguredToken(string Content, string File, string Field);

/// <summary>
/// What tokenizer_config.json and special_tokens_map.json say about special tokens; both files are optional.
/// </summary>
internal sealed class TokenizerConfig
{
    public const string ConfigFileName = "tokenizer_config.json";
    public const string SpecialTokensMapFileName = "special_tokens_map.json";

    /// <summary>A config that names nothing, for tokenizers built without a folder.</summary>
    public static readonly TokenizerConfig Empty = new(null, null, null, []);

    private TokenizerConfig(ConfiguredToken? bos, ConfiguredToken? eos, bool? addBosToken, IReadOnlyList<AddedToken> addedTokens)
    {
        Bos = bos;
        Eos = eos;
        AddBosToken = addBosToken;
        AddedTokens = addedTokens;
    }

    /// <summary>The configured beginning-of-sequence token, if any.</summary>
    public ConfiguredToken? Bos { get; }

    /// <summary>The configured end-of-sequence token, if any.</summary>
    public ConfiguredToken? Eos { get; }

    /// <summary>tokenizer_config.json's add_bos_token, if present.</summary>
    public bool? AddBosToken { get; }

    /// <summary>tokenizer_config.json's added_tokens_decoder entries, ordered by id.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>Reads the config files of <paramref name="folder"/>; tokenizer_config.json wins over special_tokens_map.json.</summary>
    public static TokenizerConfig Load(string folder)
    {
        ConfiguredToken? bos = null, eos = null;
        bool? addBos = null;
        List<AddedToken> added = [];

        string mapPath = Path.Combine(folder, SpecialTokensMapFileName);
        if (File.Exists(mapPath))
        {
            using JsonDocument map = JsonFile.Parse(mapPath);
            bos = ReadToken(map.RootElement, "bos_token", mapPath);
            eos = ReadToken(map.RootElement, "eos_token", mapPath);
        }

        string configPath = Path.Combine(folder, ConfigFileName);
        if (File.Exists(configPath))
        {
            using JsonDocument config = JsonFile.Parse(configPath);
            JsonElement root = config.RootElement;
            bos = ReadToken(root, "bos_token", configPath) ?? bos;
            eos = ReadToken(root, "eos_token", configPath) ?? eos;
            addBos = JsonFile.OptionalBool(root, "add_bos_token", configPath, "add_bos_token");
            added = ReadAddedTokensDecoder(root, configPath);
        }

        return new TokenizerConfig(bos, eos, addBos, added);
    }

    /// <summary>
    /// Resolves the configured token to an id with <paramref name="lookup"/>, else the first of
    /// <paramref name="fallbacks"/> that the vocabulary has. A configured token that the vocabulary
    /// lacks is an error, since the model would then never see or stop at it.
    /// </summary>
    public static int? Resolve(ConfiguredToken? configured, Func<string, int?> lookup, params ReadOnlySpan<string?> fallbacks)
    {
        if (configured is not null)
        {
            return lookup(configured.Content)
                ?? throw new TokenizerLoadException(configured.File,
                    $"field '{configured.Field}' names '{configured.Content}', which is not a token of the vocabulary");
        }

        foreach (string? candidate in fallbacks)
        {
            if (candidate is not null && lookup(candidate) is int id)
            {
                return id;
            }
        }

        return null;
    }

    // bos_token / eos_token are either a plain string or an AddedToken object with "content".
    private static ConfiguredToken? ReadToken(JsonElement root, string name, string path)
    {
        if (!JsonFile.TryGet(root, name, out JsonElement value))
        {
            return null;
        }

        string? content = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object => JsonFile.Required(value, "content", JsonValueKind.String, path, $"{name}.content").GetString(),
            _ => throw new TokenizerLoadException(path, $"field '{name}' must be a string or an object with \"content\""),
        };

        return string.IsNullOrEmpty(content) ? null : new ConfiguredToken(content, path, name);
    }

    // added_tokens_decoder maps an id (as a string key) to an AddedToken object.
    private static List<AddedToken> ReadAddedTokensDecoder(JsonElement root, string path)
    {
        List<AddedToken> tokens = [];
        if (JsonFile.Optional(root, "added_tokens_decoder", JsonValueKind.Object, path, "added_tokens_decoder") is not { } decoder)
        {
            return tokens;
        }

        foreach (JsonProperty entry in decoder.EnumerateObject())
        {
            string field = $"added_tokens_decoder.{entry.Name}";
            if (!int.TryParse(entry.Name, out int id) || id < 0)
            {
                throw new TokenizerLoadException(path, $"field '{field}' must be keyed by a non-negative integer token id");
            }

            JsonElement token = entry.Value.ValueKind == JsonValueKind.Object
                ? entry.Value
                : throw new TokenizerLoadException(path, $"field '{field}' must be an object");
            string content = JsonFile.Required(token, "content", JsonValueKind.String, path, $"{field}.content").GetString()!;
            bool special = JsonFile.OptionalBool(token, "special", path, $"{field}.special") ?? false;
            tokens.Add(new AddedToken(id, content, special));
        }

        tokens.Sort((a, b) => a.Id.CompareTo(b.Id));
        return tokens;
    }
}
