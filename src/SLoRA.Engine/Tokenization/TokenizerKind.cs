namespace SLoRA.Engine.Tokenization;

/// <summary>The values of <see cref="TextTokenizer.Kind"/>: which file format a tokenizer came from.</summary>
public static class TokenizerKind
{
    /// <summary>A Hugging Face tokenizer.json of a byte-level BPE model.</summary>
    public const string BpeJson = "bpe-json";

    /// <summary>A SentencePiece BPE tokenizer.model (Llama, Llama 2, Mistral).</summary>
    public const string SentencePiece = "sentencepiece";

    /// <summary>A tiktoken vocabulary file (*.tiktoken).</summary>
    public const string Tiktoken = "tiktoken";

    /// <summary>The built-in GPT-2 encoding.</summary>
    public const string Gpt2 = "gpt2";
}
