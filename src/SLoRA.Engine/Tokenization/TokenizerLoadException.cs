namespace SLoRA.Engine.Tokenization;

/// <summary>
/// Thrown when tokenizer files are missing, malformed or of a kind this engine does not support.
/// The message names the file (or folder) and what is wrong with it.
/// </summary>
public sealed class TokenizerLoadException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/> with a description of the problem.</summary>
    /// <param name="path">The file or folder that could not be loaded.</param>
    /// <param name="problem">What is wrong, e.g. "field 'model.vocab' is missing".</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public TokenizerLoadException(string path, string problem, Exception? innerException = null)
        : base($"Cannot load tokenizer from '{path}': {problem}", innerException)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The file or folder that could not be loaded.</summary>
    public string Path { get; }

    /// <summary>What is wrong with <see cref="Path"/>, without the path.</summary>
    public string Problem { get; }

    /// <summary>
    /// True when the file is well formed but of a flavour this engine does not build (e.g. a
    /// SentencePiece-style tokenizer.json), so a loader may try another file in the same folder.
    /// </summary>
    internal bool IsUnsupportedFormat { get; init; }
}
