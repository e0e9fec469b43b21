namespace SLoRA.Engine.Serving;

/// <summary>A request named an adapter that is not registered. Never falls back to the base model.</summary>
public sealed class UnknownAdapterException(string adapterId)
    : Exception($"The adapter '{adapterId}' is not registered.")
{
    /// <summary>The id that was asked for.</summary>
    public string AdapterId { get; } = adapterId;
}
