using System.Text.Json.Nodes;
using SLoRA.Engine.Tokenization;

namespace SLoRA.Engine.Tests.Tokenization;

public sealed class ByteLevelBpeTokenizerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loads_and_applies_merges(bool mergesAsPairs)
    {
        TextTokenizer tokenizer = Load(TinyByteLevelBpe.Build(mergesAsPairs: mergesAsPairs));

        Assert.Equal(TokenizerKind.BpeJson, tokenizer.Kind);
        Assert.Equal([TinyByteLevelBpe.Id("Hello"), TinyByteLevelBpe.Id("Ġworld")], tokenizer.Encode("Hello world", addBos: false));
        Assert.Equal("Hello world", tokenizer.Decode(tokenizer.Encode("Hello world", addBos: false)));
    }

    [Fact]
    public void Falls_back_to_byte_tokens_for_text_without_merges()
    {
        TextTokenizer tokenizer = Load(TinyByteLevelBpe.Build());

        IReadOnlyList<int> ids = tokenizer.Encode("Hé 😀", addBos: false);

        // H, é as two bytes, then space+emoji as five byte tokens: no merge covers them.
        Assert.Equal([TinyByteLevelBpe.Id("H"), TinyByteLevelBpe.Id("Ã"), TinyByteLevelBpe.Id("©"), TinyByteLevelBpe.Id("Ġ")], ids.Take(4));
        Assert.Equal(8, ids.Count);
        Assert.Equal("Hé 😀", tokenizer.Decode(ids));
    }

    [Fact]
    public void Encodes_added_tokens_whole_and_reads_special_tokens()
    {
        TextTokenizer tokenizer = Load(TinyByteLevelBpe.Build());

        IReadOnlyList<int> ids = tokenizer.Encode("Hello<|endoftext|> world", addBos: false);

        Assert.Equal([TinyByteLevelBpe.Id("Hello"), TinyByteLevelBpe.EndOfTextId, TinyByteLevelBpe.Id("Ġworld")], ids);
        Assert.Equal("Hello world", tokenizer.Decode(ids));
        Assert.Equal(TinyByteLevelBpe.BosId, tokenizer.BosTokenId);
        Assert.Equal(TinyByteLevelBpe.EndOfTextId, tokenizer.EosTokenId);
        Assert.Equal(TinyByteLevelBpe.BosId + 1, tokenizer.VocabSize);
        Assert.False(tokenizer.AddBosByDefault);
    }

    [Fact]
    public void Adds_the_prefix_space_of_the_byte_level_pre_tokenizer()
    {
        TextTokenizer tokenizer = Load(TinyByteLevelBpe.Build(addPrefixSpace: true));

        Assert.Equal([TinyByteLevelBpe.Id("Ġ"), TinyByteLevelBpe.Id("Hello"), TinyByteLevelBpe.Id("Ġworld")], tokenizer.Encode("Hello world", addBos: false));
        Assert.Equal(
            [TinyByteLevelBpe.EndOfTextId, TinyByteLevelBpe.Id("Ġworld")],
            tokenizer.Encode("<|endoftext|>world", addBos: false));
    }

    [Fact]
    public void Ignore_merges_takes_whole_vocabulary_words()
    {
        TextTokenizer merging = Load(TinyByteLevelBpe.Build(ignoreMerges: false));
        using TempFolder other = new();
        TextTokenizer ignoring = Load(TinyByteLevelBpe.Build(ignoreMerges: true), other);

        Assert.Equal(3, merging.Encode("xyz", addBos: false).Count);
        Assert.Equal([TinyByteLevelBpe.Id("xyz")], ignoring.Encode("xyz", addBos: false));
        Assert.Equal([TinyByteLevelBpe.Id("Hello"), TinyByteLevelBpe.EndOfTextId, TinyByteLevelBpe.Id("Ġworld")], ignoring.Encode("Hello<|endoftext|> world", addBos: false));
    }

    [Fact]
    public void Takes_bos_from_a_template_post_processor()
    {
        TextTokenizer tokenizer = Load(TinyByteLevelBpe.Build(bosTemplate: true));

        Assert.Equal(TinyByteLevelBpe.BosId, tokenizer.BosTokenId);
        Assert.True(tokenizer.AddBosByDefault);
        Assert.Equal([TinyByteLevelBpe.BosId, TinyByteLevelBpe.Id("Hello")], tokenizer.Encode("Hello", addBos: true));
        Assert.Equal("Hello", tokenizer.Decode([TinyByteLevelBpe.BosId, TinyByteLevelBpe.Id("Hello")]));
    }

    [Fact]
    public void Takes_bos_and_eos_from_tokenizer_config()
    {
        _folder.Write("tokenizer_config.json", """
            {
              "add_bos_token": true,
              "bos_token": { "__type": "AddedToken", "content": "<|endoftext|>", "special": true },
              "eos_token": "<s>"
            }
            """);

        TextTokenizer tokenizer = Load(TinyByteLevelBpe.Build());

        Assert.Equal(TinyByteLevelBpe.EndOfTextId, tokenizer.BosTokenId);
        Assert.Equal(TinyByteLevelBpe.BosId, tokenizer.EosTokenId);
        Assert.True(tokenizer.AddBosByDefault);
    }

    [Fact]
    public void Takes_eos_from_special_tokens_map()
    {
        _folder.Write("special_tokens_map.json", """{ "eos_token": { "content": "<s>" } }""");

        Assert.Equal(TinyByteLevelBpe.BosId, Load(TinyByteLevelBpe.Build()).EosTokenId);
    }

    private TextTokenizer Load(JsonObject tokenizerJson, TempFolder? folder = null)
    {
        folder ??= _folder;
        folder.Write("tokenizer.json", tokenizerJson.ToJsonString());
        return TextTokenizer.FromModelFolder(folder.Path);
    }
}
