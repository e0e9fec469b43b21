namespace SLoRA.Grid.Generation;

/// <summary>Why a generation ended (the wire twin of the engine's reason).</summary>
[GenerateSerializer, Alias("slora.FinishReason")]
public enum FinishReason
{
    /// <summary>It reached its max new tokens.</summary>
    Length,
    /// <summary>It produced an end-of-sequence token, a stop token or a stop string.</summary>
    Stop,
    /// <summary>The caller cancelled it.</summary>
    Cancelled,
    /// <summary>It could no longer meet its first-token deadline, and was dropped before it ran.</summary>
    DeadlineExceeded,
    /// <summary>The engine failed while running it.</summary>
    Error,
}
