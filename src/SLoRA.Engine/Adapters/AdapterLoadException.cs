namespace SLoRA.Engine.Adapters;

/// <summary>
/// Thrown when a LoRA adapter is refused: a file is missing or malformed, the config asks for
/// something the engine does not implement, or the weights do not fit the base model. The
/// message always names the adapter, the file, and the config field or tensor, and says why.
/// </summary>
public sealed class AdapterLoadException : Exception
{
    /// <summary>Creates the exception with a message that names the adapter, file and field or tensor.</summary>
    public AdapterLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception wrapping the low-level cause (an I/O, JSON or safetensors error).</summary>
    public AdapterLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Formats the message as <c>adapter 'id': file: problem</c>.</summary>
    internal AdapterLoadException(string adapterId, string file, string problem, Exception? innerException = null)
        : base($"adapter '{adapterId}': {file}: {problem}", innerException)
    {
        AdapterId = adapterId;
        FilePath = file;
    }

    /// <summary>The adapter refused (its id, or its folder's name), when the loader knew it.</summary>
    public string? AdapterId { get; }

    /// <summary>The file at fault, when the loader knew it.</summary>
    public string? FilePath { get; }
}
