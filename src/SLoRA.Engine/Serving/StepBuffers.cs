using SLoRA.Engine.Execution;
using SLoRA.Engine.Generation;

namespace SLoRA.Engine.Serving;

/// <summary>The host buffers a step reuses: the batch, its token scratch, logits and greedy results, and the sampler.</summary>
internal sealed class StepBuffers(ModelRunnerOptions options, int vocabSize)
{
    public ForwardBatch Batch { get; } = new(options.MaxBatchTokens);
    public int[] Tokens { get; } = new int[options.MaxBatchTokens];
    public float[] Logits { get; } = new float[options.MaxLogitRows * vocabSize];
    public int[] GreedyTokens { get; } = new int[options.MaxLogitRows];
    public float[] GreedyLogprobs { get; } = new float[options.MaxLogitRows];
    public Sampler Sampler { get; } = new();
}
