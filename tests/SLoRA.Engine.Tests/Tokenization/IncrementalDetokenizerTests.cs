using SLoRA.Engine.Tokenization;
using static SLoRA.Engine.Tests.Tokenization.TinySentencePieceModel;

namespace SLoRA.Engine.Tests.Tokenization;

public sealed class IncrementalDetokenizerTests
{
    [Fact]
    public void Holds_back_an_emoji_split_across_gpt2_tokens()
    {
        TextTokenizer gpt2 = TextTokenizer.Gpt2();
        IReadOnlyList<int> ids = gpt2.Encode("😀", addBos: false);
        Assert.Equal(2, ids.Count); // the emoji's four bytes are two byte-level tokens
        IncrementalDetokenizer detokenizer = new(gpt2);

        Assert.Equal("", detokenizer.Push(ids[0]));
        Assert.Equal("😀", detokenizer.Push(ids[1]));
        Assert.Equal("", detokenizer.Flush());
    }

    [Theory]
    [InlineData("Hello, world! Ünïcödé façade — 日本語のテキスト, 中文, 한국어 😀🎉👍🏽 done.\n")]
    [InlineData("   spaces   and\n\nnewlines\t")]
    [InlineData("🇫🇷🇩🇪 flags, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters, ⭐⭐⭐")]
    public void Streams_the_same_text_as_decoding_at_once_with_gpt2(string text)
    {
        TextTokenizer gpt2 = TextTokenizer.Gpt2();
        IReadOnlyList<int> ids = gpt2.Encode(text, addBos: false);

        List<string> pieces = Stream(gpt2, ids);

        Assert.Equal(gpt2.Decode(ids), string.Concat(pieces));
        Assert.Equal(text, string.Concat(pieces));
        Assert.DoesNotContain(pieces, piece => piece.Contains('\uFFFD'));
    }

    [Fact]
    public void Leaves_out_special_tokens()
    {
        TextTokenizer gpt2 = TextTokenizer.Gpt2();

        Assert.Equal("Hello world", string.Concat(Stream(gpt2, [15496, 50256, 995, 50256])));
    }

    [Fact]
    public void Assembles_sentencepiece_byte_tokens_into_a_character()
    {
        IncrementalDetokenizer detokenizer = new(LoadSentencePiece(out TempFolder folder));
        using (folder)
        {
            Assert.Equal("Hello", detokenizer.Push(Piece("▁Hello")));
            Assert.Equal(" ", detokenizer.Push(Piece("▁")));
            Assert.Equal("", detokenizer.Push(Byte(0xE2)));
            Assert.Equal("", detokenizer.Push(Byte(0x82)));
            Assert.Equal("€", detokenizer.Push(Byte(0xAC)));
            Assert.Equal(" world", detokenizer.Push(Piece("▁world")));
            Assert.Equal("", detokenizer.Flush());
        }
    }

    [Fact]
    public void Matches_sentencepiece_decode_of_the_whole_sequence()
    {
        TextTokenizer tokenizer = LoadSentencePiece(out TempFolder folder);
        using (folder)
        {
            int[][] sequences =
            [
                [Piece("▁Hello"), Piece("▁world")],
                [BosId, Piece("▁Hello"), Piece("▁"), Piece("▁world"), EosId],
                [Byte(0xE2), Byte(0x82), Byte(0xAC), Piece("▁Hello"), Byte(0xF0), Byte(0x9F), Byte(0x98), Byte(0x80)],
                [Piece("▁"), Piece("▁H"), Piece("e"), Piece("llo"), Piece("▁wor"), Piece("ld")],
                [Piece("H"), Piece("e"), Piece("▁"), Piece("▁")],
            ];

            foreach (int[] ids in sequences)
            {
                Assert.Equal(tokenizer.Decode(ids), string.Concat(Stream(tokenizer, ids)));
            }
        }
    }

    [Fact]
    public void Keeps_the_leading_space_when_continuing_a_prompt()
    {
        TextTokenizer tokenizer = LoadSentencePiece(out TempFolder folder);
        using (folder)
        {
            int[] completion = [Piece("▁world"), Piece("▁Hello")];

            Assert.Equal("world Hello", string.Concat(Stream(tokenizer, completion)));
            Assert.Equal(" world Hello", string.Concat(Stream(tokenizer, completion, continuesText: true)));
        }
    }

    [Fact]
    public void Flushes_an_incomplete_character_as_decode_does()
    {
        TextTokenizer gpt2 = TextTokenizer.Gpt2();
        IReadOnlyList<int> emoji = gpt2.Encode("😀", addBos: false);
        IncrementalDetokenizer detokenizer = new(gpt2);

        Assert.Equal("Hello", detokenizer.Push(15496));
        Assert.Equal("", detokenizer.Push(emoji[0]));
        Assert.Equal(gpt2.Decode([emoji[0]]), detokenizer.Flush());
    }

    [Fact]
    public void Keeps_the_window_short_on_long_streams()
    {
        TextTokenizer gpt2 = TextTokenizer.Gpt2();
        string text = string.Concat(Enumerable.Repeat("Streaming 日本語 text, 😀 token by token. ", 200));
        IReadOnlyList<int> ids = gpt2.Encode(text, addBos: false);

        Assert.Equal(text, string.Concat(Stream(gpt2, ids)));
    }

    private static List<string> Stream(TextTokenizer tokenizer, IEnumerable<int> ids, bool continuesText = false)
    {
        IncrementalDetokenizer detokenizer = new(tokenizer, continuesText);
        List<string> pieces = [.. ids.Select(detokenizer.Push)];
        pieces.Add(detokenizer.Flush());
        return pieces;
    }

    private static TextTokenizer LoadSentencePiece(out TempFolder folder)
    {
        folder = new TempFolder().Write("tokenizer.model", Build());
        return TextTokenizer.FromModelFolder(folder.Path);
    }
}
