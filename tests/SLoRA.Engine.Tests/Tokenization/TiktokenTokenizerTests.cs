using System.Text;
using SLoRA.Engine.Tokenization;

namespace SLoRA.Engine.Tests.Tokenization;

public sealed class TiktokenTokenizerTests : IDisposable
{
    private const int EndOfText = 300;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Loads_a_tiktoken_file_with_special_tokens_from_the_config()
    {
        // Ranks 0..255 are the single bytes; then merges "He", "ll", "Hell", "Hello" in rank order.
        StringBuilder file = new();
        for (int b = 0; b < 256; b++)
        {
            file.Append(Convert.ToBase64String([(byte)b])).Append(' ').Append(b).Append('\n');
        }

        string[] merged = ["He", "ll", "Hell", "Hello"];
        for (int i = 0; i < merged.Length; i++)
        {
            file.Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(merged[i]))).Append(' ').Append(256 + i).Append('\n');
        }

        _folder.Write("tiny.tiktoken", file.ToString())
            .Write("tokenizer_config.json", $$"""
                {
                  "added_tokens_decoder": { "{{EndOfText}}": { "content": "<|endoftext|>", "special": true } },
                  "eos_token": "<|endoftext|>"
                }
                """);

        TextTokenizer tokenizer = TextTokenizer.FromModelFolder(_folder.Path);

        Assert.Equal(TokenizerKind.Tiktoken, tokenizer.Kind);
        Assert.Equal(EndOfText + 1, tokenizer.VocabSize);
        Assert.Equal(EndOfText, tokenizer.EosTokenId);
        Assert.Equal([259, EndOfText, ' ', 259], tokenizer.Encode("Hello<|endoftext|> Hello", addBos: false));
        Assert.Equal("Hello Hello, ünï", tokenizer.Decode(tokenizer.Encode("Hello<|endoftext|> Hello, ünï", addBos: false)));
    }
}
