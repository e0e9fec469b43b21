using SLoRA.Engine.Tokenization;

namespace SLoRA.Engine.Tests.Tokenization;

public sealed class TokenizerLoadingErrorTests : IDisposable
{
    private const string ByteLevel = """ "pre_tokenizer": { "type": "ByteLevel", "add_prefix_space": false, "use_regex": true } """;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string, string> MalformedTokenizerJson => new()
    {
        { "{ \"model\": ", "invalid JSON" },
        { "[1, 2]", "top-level JSON value is not an object" },
        { "{}", "field 'model' is missing" },
        { """{ "model": { "vocab": { "a": 0 } } }""", "field 'model.type' is missing" },
        { $$"""{ {{ByteLevel}}, "model": { "type": "BPE", "merges": [] } }""", "field 'model.vocab' is missing" },
        { $$"""{ {{ByteLevel}}, "model": { "type": "BPE", "vocab": ["a"] } }""", "field 'model.vocab' must be an object" },
        { $$"""{ {{ByteLevel}}, "model": { "type": "BPE", "vocab": {} } }""", "field 'model.vocab' is empty" },
        { $$"""{ {{ByteLevel}}, "model": { "type": "BPE", "vocab": { "a": "zero" } } }""", "field 'model.vocab[\"a\"]' must be a non-negative integer" },
        { """{ "model": { "type": "Unigram", "vocab": [["a", -1.0]] } }""", "field 'model.type' is 'Unigram'" },
        { """{ "model": { "type": "WordPiece", "vocab": { "a": 0 } } }""", "field 'model.type' is 'WordPiece'" },
        { """{ "pre_tokenizer": { "type": "Metaspace" }, "model": { "type": "BPE", "vocab": { "a": 0 } } }""", "field 'pre_tokenizer' is 'Metaspace'" },
        { """{ "model": { "type": "BPE", "byte_fallback": true, "vocab": { "a": 0 } } }""", "field 'model.byte_fallback' is true" },
        { $$"""{ "normalizer": { "type": "Lowercase" }, {{ByteLevel}}, "model": { "type": "BPE", "vocab": { "a": 0 } } }""", "field 'normalizer' is 'Lowercase'" },
        { $$"""{ {{ByteLevel}}, "model": { "type": "BPE", "vocab": { "a": 0, "b": 1, "ab": 2 }, "merges": [["a"]] } }""", "field 'model.merges[0]' must be" },
        { $$"""{ {{ByteLevel}}, "model": { "type": "BPE", "vocab": { "a": 0, "b": 1, "ab": 2 }, "merges": ["a b", "a c"] } }""", "'model.merges'" },
        { $$"""{ {{ByteLevel}}, "model": { "type": "BPE", "vocab": { "a": 0 } }, "added_tokens": [{ "content": "<s>" }] }""", "field 'added_tokens[0].id' is missing" },
    };

    [Theory]
    [MemberData(nameof(MalformedTokenizerJson))]
    public void Refuses_malformed_tokenizer_json_naming_file_and_field(string json, string expected)
    {
        _folder.Write("tokenizer.json", json);

        TokenizerLoadException error = Assert.Throws<TokenizerLoadException>(() => TextTokenizer.FromModelFolder(_folder.Path));

        Assert.Equal(_folder.File("tokenizer.json"), error.Path);
        Assert.Contains(_folder.File("tokenizer.json"), error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Refuses_an_empty_folder_naming_the_files_looked_for()
    {
        TokenizerLoadException error = Assert.Throws<TokenizerLoadException>(() => TextTokenizer.FromModelFolder(_folder.Path));

        Assert.Equal(_folder.Path, error.Path);
        Assert.Contains("tokenizer.json", error.Message);
        Assert.Contains("tokenizer.model", error.Message);
        Assert.Contains("*.tiktoken", error.Message);
    }

    [Fact]
    public void Refuses_a_missing_folder()
    {
        string missing = _folder.File("nope");

        TokenizerLoadException error = Assert.Throws<TokenizerLoadException>(() => TextTokenizer.FromModelFolder(missing));

        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void Refuses_a_garbage_tokenizer_model()
    {
        _folder.Write("tokenizer.model", [0xFF, 0xFF, 0xFF, 0x13, 0x37]);

        TokenizerLoadException error = Assert.Throws<TokenizerLoadException>(() => TextTokenizer.FromModelFolder(_folder.Path));

        Assert.Equal(_folder.File("tokenizer.model"), error.Path);
    }

    [Fact]
    public void Refuses_malformed_tokenizer_config_naming_it()
    {
        _folder.Write("tokenizer.json", TinyByteLevelBpe.Build().ToJsonString())
            .Write("tokenizer_config.json", """{ "eos_token": 42 }""");

        TokenizerLoadException error = Assert.Throws<TokenizerLoadException>(() => TextTokenizer.FromModelFolder(_folder.Path));

        Assert.Contains(_folder.File("tokenizer_config.json"), error.Message);
        Assert.Contains("'eos_token'", error.Message);
    }

    [Fact]
    public void Refuses_a_configured_eos_the_vocabulary_lacks()
    {
        _folder.Write("tokenizer.json", TinyByteLevelBpe.Build().ToJsonString())
            .Write("tokenizer_config.json", """{ "eos_token": "<|im_end|>" }""");

        TokenizerLoadException error = Assert.Throws<TokenizerLoadException>(() => TextTokenizer.FromModelFolder(_folder.Path));

        Assert.Contains(_folder.File("tokenizer_config.json"), error.Message);
        Assert.Contains("<|im_end|>", error.Message);
    }

    [Fact]
    public void Refuses_a_malformed_tiktoken_file_naming_the_line()
    {
        _folder.Write("model.tiktoken", "SGVsbG8= 0\nnot base64!! 1\n");

        TokenizerLoadException error = Assert.Throws<TokenizerLoadException>(() => TextTokenizer.FromModelFolder(_folder.Path));

        Assert.Equal(_folder.File("model.tiktoken"), error.Path);
        Assert.Contains("line 2", error.Message);
    }
}
