using Microsoft.ML.Tokenizers;

namespace SLoRA.Engine.Tokenization;

/// <summary>
/// Hugging Face BPE's ignore_merges (set by Llama 3): a pre-token whose byte-level spelling is
/// itself in the vocabulary becomes that one token, even where the merges would not build it.
/// <see cref="BpeTokenizer"/> has no such switch, so this runs the same normalize and
/// pre-tokenize steps, takes that shortcut, and hands every other pre-token to the library's BPE.
/// </summary>
internal sealed class IgnoreMergesEncoder(BpeTokenizer bpe)
{
    private readonly IReadOnlyDictionary<string, int> _vocabulary = bpe.Vocabulary;

    public IReadOnlyList<int> Encode(string text)
    {
        string normalized = bpe.Normalizer?.Normalize(text) ?? text;
        PreTokenizer preTokenizer = bpe.PreTokenizer
            ?? throw new InvalidOperationException("A byte-level BPE tokenizer always has a pre-tokenizer.");

        List<int> ids = [];
        foreach ((int offset, int length) in preTokenizer.PreTokenize(normalized))
        {
            string piece = normalized.Substring(offset, length);
            if (bpe.SpecialTokens?.TryGetValue(piece, out int special) == true)
            {
                ids.Add(special);
            }
            else if (_vocabulary.TryGetValue(ByteLevelAlphabet.Encode(piece), out int whole))
            {
                ids.Add(whole);
            }
            else
            {
                ids.AddRange(bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false));
            }
        }

        return ids;
    }
}
