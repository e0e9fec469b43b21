namespace SLoRA.LoadTests.Replay;

/// <summary>Why a request did not complete.</summary>
public enum FailureKind
{
    /// <summary>The target refused it because its queue was full (the engine's overload; HTTP 429/503).</summary>
    Overloaded,
    /// <summary>The target refused it as invalid (too long for the context or the KV pool, say).</summary>
    Rejected,
    /// <summary>The target dropped it after accepting it (a deadline, an abort).</summary>
    Aborted,
    /// <summary>The replay was cancelled before it finished, or before it was sent.</summary>
    Cancelled,
    /// <summary>Anything else that went wrong.</summary>
    Error,
}
