using SLoRA.Grid.Generation;

namespace SLoRA.Grid.Client;

/// <summary>A whole generation, collected from its stream.</summary>
/// <param name="Text">The generated text.</param>
/// <param name="TokenIds">The generated tokens.</param>
/// <param name="FinishReason">Why it ended.</param>
public sealed record GenerationResult(string Text, IReadOnlyList<int> TokenIds, FinishReason? FinishReason);
