namespace SLoRA.Grid.Errors;

/// <summary>The silo serving the adapter has a full queue; retry after <see cref="RetryAfter"/> (HTTP 429).</summary>
[GenerateSerializer, Alias("slora.GridOverloadedException")]
public sealed class GridOverloadedException : GridException
{
    /// <summary>For the serializer.</summary>
    public GridOverloadedException() { }

    /// <summary>Overloaded, with a retry hint.</summary>
    public GridOverloadedException(string message, TimeSpan retryAfter) : base(message) => RetryAfter = retryAfter;

    /// <summary>How long the caller should wait before retrying.</summary>
    [Id(0)] public TimeSpan RetryAfter { get; private set; }
}
