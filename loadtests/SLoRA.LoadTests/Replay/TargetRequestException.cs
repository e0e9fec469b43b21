namespace SLoRA.LoadTests.Replay;

/// <summary>A target could not serve one request; the replay records it and carries on.</summary>
public sealed class TargetRequestException(FailureKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>How the request failed.</summary>
    public FailureKind Kind { get; } = kind;
}
