namespace SLoRA.Engine.Model;

/// <summary>
/// Thrown when a model, config or safetensors file on disk is missing, malformed or does not
/// fit what the engine expects. The message always names the file and, where one is involved,
/// the tensor or config field.
/// </summary>
public sealed class ModelLoadException : Exception
{
    /// <summary>Creates the exception with a message that names the offending file.</summary>
    public ModelLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception wrapping the low-level cause (an I/O or JSON error).</summary>
    public ModelLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
