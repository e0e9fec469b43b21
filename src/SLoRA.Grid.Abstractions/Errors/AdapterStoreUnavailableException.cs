namespace SLoRA.Grid.Errors;

/// <summary>The adapter store could not be reached; retry later (HTTP 503).</summary>
[GenerateSerializer, Alias("slora.AdapterStoreUnavailableException")]
public sealed class AdapterStoreUnavailableException : GridException
{
    /// <summary>For the serializer.</summary>
    public AdapterStoreUnavailableException() { }

    /// <summary>The store failed while serving <paramref name="adapterId"/>.</summary>
    public AdapterStoreUnavailableException(string adapterId, string reason)
        : base($"The adapter store could not be reached for '{adapterId}': {reason}")
    {
        AdapterId = adapterId;
        Reason = reason;
    }

    /// <summary>The adapter being fetched, or empty for a listing.</summary>
    [Id(0)] public string AdapterId { get; private set; } = "";

    /// <summary>What failed.</summary>
    [Id(1)] public string Reason { get; private set; } = "";
}
