using SLoRA.Engine.Tokenization;

namespace SLoRA.Engine.Tests.Tokenization;

public sealed class Gpt2TokenizerTests
{
    private readonly TextTokenizer _gpt2 = TextTokenizer.Gpt2();

    [Fact]
    public void Encodes_known_ids()
    {
        Assert.Equal([15496, 995], _gpt2.Encode("Hello world", addBos: false));
    }

    [Theory]
    [InlineData("The quick brown fox jumps over the lazy dog.")]
    [InlineData("Crème brûlée, naïve façade, Ångström")]
    [InlineData("日本語のテキストと中文文本")]
    [InlineData("emoji 😀🎉👍🏽 and 🇫🇷 flags")]
    [InlineData("  leading and trailing spaces \n\ttabs\n")]
    public void Round_trips_text(string text)
    {
        Assert.Equal(text, _gpt2.Decode(_gpt2.Encode(text, addBos: false)));
    }

    [Fact]
    public void Describes_itself()
    {
        Assert.Equal(TokenizerKind.Gpt2, _gpt2.Kind);
        Assert.Equal(50257, _gpt2.VocabSize);
        Assert.Equal(50256, _gpt2.BosTokenId);
        Assert.Equal(50256, _gpt2.EosTokenId);
        Assert.False(_gpt2.AddBosByDefault);
    }

    [Fact]
    public void Adds_bos_only_when_asked()
    {
        Assert.Equal([50256, 15496, 995], _gpt2.Encode("Hello world", addBos: true));
    }

    [Fact]
    public void Encodes_special_tokens_in_text_and_decodes_without_them()
    {
        IReadOnlyList<int> ids = _gpt2.Encode("Hello<|endoftext|> world", addBos: false);

        Assert.Equal([15496, 50256, 995], ids);
        Assert.Equal("Hello world", _gpt2.Decode(ids));
    }

    [Fact]
    public void Is_shared()
    {
        Assert.Same(_gpt2, TextTokenizer.Gpt2());
    }
}
