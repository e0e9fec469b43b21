namespace SLoRA.Grid.Errors;

/// <summary>Base of the errors the grid returns to callers; each subtype maps to one HTTP status.</summary>
[GenerateSerializer, Alias("slora.GridException")]
public class GridException : Exception
{
    /// <summary>For the serializer.</summary>
    public GridException() { }

    /// <summary>An error with a message.</summary>
    public GridException(string message) : base(message) { }

    /// <summary>An error with a message and its cause.</summary>
    public GridException(string message, Exception? inner) : base(message, inner) { }
}
