namespace SLoRA.Grid.Http.Generation;

/// <summary>What a request's "model" (or "lora_dir") names: the base model, or one adapter.</summary>
/// <param name="Model">The name as the request gave it (echoed in responses and metric labels).</param>
/// <param name="AdapterId">The adapter, or null for the base model.</param>
public sealed record ModelTarget(string Model, string? AdapterId)
{
    /// <summary>True for the base model.</summary>
    public bool IsBase => AdapterId is null;
}
