namespace SLoRA.Grid.Errors;

/// <summary>
/// The adapter exists but cannot be served: its files are malformed, or it does not fit the base
/// model or the engine (rank above the maximum, shapes of another model). HTTP 422.
/// </summary>
[GenerateSerializer, Alias("slora.AdapterRejectedException")]
public sealed class AdapterRejectedException : GridException
{
    /// <summary>For the serializer.</summary>
    public AdapterRejectedException() { }

    /// <summary>The adapter <paramref name="adapterId"/> was refused for <paramref name="reason"/>.</summary>
    public AdapterRejectedException(string adapterId, string reason)
        : base($"The adapter '{adapterId}' cannot be served: {reason}")
    {
        AdapterId = adapterId;
        Reason = reason;
    }

    /// <summary>The adapter.</summary>
    [Id(0)] public string AdapterId { get; private set; } = "";

    /// <summary>Why it was refused.</summary>
    [Id(1)] public string Reason { get; private set; } = "";
}
