using SLoRA.Engine.Tokenization;
using static SLoRA.Engine.Tests.Tokenization.TinySentencePieceModel;

namespace SLoRA.Engine.Tests.Tokenization;

public sealed class SentencePieceTokenizerTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly TextTokenizer _tokenizer;

    public SentencePieceTokenizerTests()
    {
        _folder.Write("tokenizer.model", Build());
        _tokenizer = TextTokenizer.FromModelFolder(_folder.Path);
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Describes_itself_as_llama_does()
    {
        Assert.Equal(TokenizerKind.SentencePiece, _tokenizer.Kind);
        Assert.Equal(BosId, _tokenizer.BosTokenId);
        Assert.Equal(EosId, _tokenizer.EosTokenId);
        Assert.True(_tokenizer.AddBosByDefault);
        Assert.Equal(Piece("d") + 1, _tokenizer.VocabSize);
    }

    [Fact]
    public void Encodes_with_dummy_prefix_and_bos()
    {
        Assert.Equal([BosId, Piece("▁Hello"), Piece("▁world")], _tokenizer.Encode("Hello world", addBos: true));
        Assert.Equal("Hello world", _tokenizer.Decode([BosId, Piece("▁Hello"), Piece("▁world"), EosId]));
    }

    [Fact]
    public void Falls_back_to_bytes_for_unknown_characters()
    {
        IReadOnlyList<int> ids = _tokenizer.Encode("Hello €", addBos: false);

        Assert.Equal([Piece("▁Hello"), Piece("▁"), Byte(0xE2), Byte(0x82), Byte(0xAC)], ids);
        Assert.Equal("Hello €", _tokenizer.Decode(ids));
    }

    [Fact]
    public void Keeps_the_space_after_leading_byte_tokens()
    {
        // Microsoft.ML.Tokenizers alone decodes this as "€Hello".
        Assert.Equal("€ Hello", _tokenizer.Decode([Byte(0xE2), Byte(0x82), Byte(0xAC), Piece("▁Hello")]));
    }

    [Fact]
    public void Encodes_control_tokens_written_in_the_text()
    {
        Assert.Equal([BosId, Piece("▁Hello"), EosId], _tokenizer.Encode("<s>Hello</s>", addBos: false));
    }

    [Fact]
    public void Is_used_when_tokenizer_json_is_sentencepiece_style()
    {
        _folder.Write("tokenizer.json", """
            {
              "normalizer": { "type": "Sequence", "normalizers": [{ "type": "Prepend", "prepend": "▁" }, { "type": "Replace", "pattern": { "String": " " }, "content": "▁" }] },
              "pre_tokenizer": null,
              "model": { "type": "BPE", "byte_fallback": true, "vocab": { "<unk>": 0 }, "merges": [] }
            }
            """);

        Assert.Equal(TokenizerKind.SentencePiece, TextTokenizer.FromModelFolder(_folder.Path).Kind);
    }
}
