namespace SLoRA.LoadTests.Replay;

/// <summary>One item of a target's response stream.</summary>
/// <param name="TokenId">The generated token, or -1 for a closing item that carries no token.</param>
/// <param name="FinishReason">Why the request ended, on its last item.</param>
public readonly record struct StreamedToken(int TokenId, string? FinishReason = null)
{
    /// <summary>True when the item is a generated token.</summary>
    public bool IsToken => TokenId >= 0;
}
