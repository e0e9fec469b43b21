using SLoRA.Grid.Generation;
using EngineChunk = SLoRA.Engine.Generation.TokenChunk;
using EngineFinishReason = SLoRA.Engine.Generation.FinishReason;
using EngineRequest = SLoRA.Engine.Serving.GenerationRequest;
using EngineSampling = SLoRA.Engine.Generation.SamplingParams;

namespace SLoRA.Grid.Grains;

/// <summary>Wire records ↔ engine records.</summary>
internal static class EngineMapping
{
    /// <summary>The engine request for <paramref name="request"/> on adapter <paramref name="adapterId"/> (null: the base model).</summary>
    public static EngineRequest ToEngine(this GenerateRequest request, string? adapterId) => new()
    {
        Prompt = request.Prompt,
        PromptTokens = request.PromptTokens,
        AdapterId = adapterId,
        FirstTokenDeadline = request.FirstTokenDeadline,
        Sampling = request.Sampling is null ? new EngineSampling() : new EngineSampling
        {
            Temperature = request.Sampling.Temperature,
            TopK = request.Sampling.TopK,
            TopP = request.Sampling.TopP,
            Seed = request.Sampling.Seed,
            MaxNewTokens = request.Sampling.MaxNewTokens,
            StopTokenIds = request.Sampling.StopTokenIds ?? [],
            StopStrings = request.Sampling.StopStrings ?? [],
            IgnoreEos = request.Sampling.IgnoreEos,
            Logprobs = request.Sampling.Logprobs,
        },
    };

    /// <summary>The wire chunk of an engine chunk.</summary>
    public static TokenChunk ToWire(this EngineChunk chunk) =>
        new(chunk.Text, chunk.TokenId, chunk.Logprob, chunk.FinishReason is { } r ? r.ToWire() : null);

    private static FinishReason ToWire(this EngineFinishReason reason) => reason switch
    {
        EngineFinishReason.Length => FinishReason.Length,
        EngineFinishReason.Stop => FinishReason.Stop,
        EngineFinishReason.Cancelled => FinishReason.Cancelled,
        EngineFinishReason.DeadlineExceeded => FinishReason.DeadlineExceeded,
        _ => FinishReason.Error,
    };
}
