namespace SLoRA.Engine.Tokenization;

/// <summary>
/// Turns a request's generated token ids into text as they stream out, one id at a time. One per
/// request; not thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// Tokens need not end on character boundaries: a byte-level BPE token or a SentencePiece byte
/// token may hold part of a multi-byte UTF-8 character. Decoding them alone gives U+FFFD, so
/// text that ends in U+FFFD is held back until the following tokens complete the character.
/// </para>
/// <para>
/// As vLLM and TGI do, only a short window of ids is decoded per token: the ids whose text was
/// last emitted (the prefix, which gives the decoder context) and those after them. The new text
/// is the window's text beyond the prefix's. When the window's text ends on a whole character
/// the window moves up, so the work per token stays bounded by a few tokens.
/// </para>
/// <para>
/// The concatenation of everything <see cref="Push"/> and <see cref="Flush"/> return equals
/// <see cref="TextTokenizer.Decode"/> of all pushed ids, or, with <c>continuesText</c>, the text
/// those ids add after earlier text (for SentencePiece models the leading space is then kept).
/// </para>
/// </remarks>
public sealed class IncrementalDetokenizer
{
    // Text before a trailing U+FFFD goes out as it comes, so waiting costs only decode work. A
    // character spans at most four bytes, so a window still ending inside one after this many
    // new tokens holds invalid UTF-8; it is then emitted with its U+FFFD to bound that work.
    private const int MaxPendingTokens = 16;

    private const char Replacement = '\uFFFD';

    private readonly TextTokenizer _tokenizer;
    private readonly List<int> _window = [];
    private int _readOffset;          // _window[.._readOffset] is the prefix, already emitted
    private string _prefixText = "";  // its text
    private int _emittedBeyondPrefix; // chars of the window's text past the prefix emitted while waiting for a character to complete
    private bool _stripLeadingSpace;

    /// <summary>Creates the detokenizer for one request.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="continuesText">
    /// True when the tokens continue earlier text, as a completion continues its prompt: the
    /// leading space that <see cref="TextTokenizer.Decode"/> drops at the start of a SentencePiece
    /// sequence is then part of the output.
    /// </param>
    public IncrementalDetokenizer(TextTokenizer tokenizer, bool continuesText = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _stripLeadingSpace = tokenizer.StripsLeadingSpace && !continuesText;
    }

    /// <summary>Adds the next generated token and returns the text it completes, possibly empty.</summary>
    public string Push(int tokenId)
    {
        _window.Add(tokenId);
        string text = _tokenizer.DecodeContinuation(_window);

        // Only a trailing U+FFFD can still turn into a character; text before it is final.
        bool complete = !text.EndsWith(Replacement) || _window.Count - _readOffset > MaxPendingTokens;
        int end = complete ? text.Length : text.AsSpan().TrimEnd(Replacement).Length;
        int start = _prefixText.Length + _emittedBeyondPrefix;
        string delta = end > start ? text[start..end] : "";

        if (complete)
        {
            // Everything after the prefix is out; those ids become the next prefix.
            _window.RemoveRange(0, _readOffset);
            _readOffset = _window.Count;
            _prefixText = _tokenizer.DecodeContinuation(_window);
            _emittedBeyondPrefix = 0;
        }
        else
        {
            _emittedBeyondPrefix += delta.Length;
        }

        return StripLeadingSpaceOnce(delta);
    }

    /// <summary>
    /// Returns the text still held back at the end of the sequence (an incomplete character comes
    /// out as U+FFFD, as <see cref="TextTokenizer.Decode"/> gives it) and starts afresh.
    /// </summary>
    public string Flush()
    {
        string text = _tokenizer.DecodeContinuation(_window);
        int start = _prefixText.Length + _emittedBeyondPrefix;
        string delta = text.Length > start ? text[start..] : "";

        _window.Clear();
        _readOffset = 0;
        _prefixText = "";
        _emittedBeyondPrefix = 0;
        return StripLeadingSpaceOnce(delta);
    }

    // Decode drops one space at the very start of a SentencePiece sequence; the first text
    // emitted is where that start is.
    private string StripLeadingSpaceOnce(string delta)
    {
        if (!_stripLeadingSpace || delta.Length == 0)
        {
            return delta;
        }

        _stripLeadingSpace = false;
        return delta[0] == ' ' ? delta[1..] : delta;
    }
}
