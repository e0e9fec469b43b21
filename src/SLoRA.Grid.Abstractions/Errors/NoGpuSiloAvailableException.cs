namespace SLoRA.Grid.Errors;

/// <summary>No silo with a GPU engine is known to the cluster yet (HTTP 503).</summary>
[GenerateSerializer, Alias("slora.NoGpuSiloAvailableException")]
public sealed class NoGpuSiloAvailableException : GridException
{
    /// <summary>For the serializer.</summary>
    public NoGpuSiloAvailableException() { }

    /// <summary>No GPU silo, with details.</summary>
    public NoGpuSiloAvailableException(string message) : base(message) { }
}
