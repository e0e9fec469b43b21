namespace SLoRA.Grid.Errors;

/// <summary>No adapter of this id is in the store (HTTP 404). The grid never falls back to the base model.</summary>
[GenerateSerializer, Alias("slora.AdapterNotFoundException")]
public sealed class AdapterNotFoundException : GridException
{
    /// <summary>For the serializer.</summary>
    public AdapterNotFoundException() { }

    /// <summary>The adapter <paramref name="adapterId"/> does not exist.</summary>
    public AdapterNotFoundException(string adapterId)
        : base($"The adapter '{adapterId}' does not exist.") => AdapterId = adapterId;

    /// <summary>The id that was asked for.</summary>
    [Id(0)] public string AdapterId { get; private set; } = "";
}
