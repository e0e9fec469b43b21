using System.Runtime.CompilerServices;
using SLoRA.Engine.Generation;
using SLoRA.Engine.Serving;
using SLoRA.LoadTests.Workload;

namespace SLoRA.LoadTests.Replay;

/// <summary>Replays against an <see cref="LlmEngine"/> in this process. It does not own the engine.</summary>
public sealed class EngineTarget(LlmEngine engine, string modelName) : ITraceTarget
{
    /// <inheritdoc/>
    public string Description => $"in-process engine: {modelName} on {engine.DeviceDescription}";

    /// <summary>
    /// The one place a trace request becomes an engine request: greedy, EOS ignored, exactly
    /// <see cref="TraceRequest.OutputLength"/> new tokens, as S-LoRA's benchmark client asks.
    /// </summary>
    public static GenerationRequest ToEngineRequest(TraceRequest request) => new()
    {
        PromptTokens = request.PromptTokens(),
        Sampling = new SamplingParams { MaxNewTokens = request.OutputLength, IgnoreEos = true },
        AdapterId = request.AdapterId,
    };

    /// <inheritdoc/>
    public async IAsyncEnumerable<StreamedToken> SendAsync(TraceRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        IAsyncEnumerable<TokenChunk> stream;
        try
        {
            stream = engine.Generate(ToEngineRequest(request), cancellationToken);
        }
        catch (EngineOverloadedException e)
        {
            throw new TargetRequestException(FailureKind.Overloaded, e.Message, e);
        }
        catch (ArgumentException e)
        {
            throw new TargetRequestException(FailureKind.Rejected, e.Message, e);
        }

        await foreach (var chunk in stream.ConfigureAwait(false))
        {
            if (chunk.FinishReason is FinishReason.Cancelled or FinishReason.DeadlineExceeded or FinishReason.Error)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new TargetRequestException(FailureKind.Aborted, $"the engine ended the request: {chunk.FinishReason}.");
            }
            yield return new StreamedToken(chunk.TokenId, chunk.FinishReason?.ToString());
        }
    }

    /// <inheritdoc/>
    public MemorySnapshot Snapshot()
    {
        var s = engine.GetStats();
        return new MemorySnapshot(s.PagesTotal, s.PagesFree, s.PagesKv, s.PagesAdapter, s.Running, s.Waiting);
    }

    MemorySnapshot? ITraceTarget.Snapshot() => Snapshot();

    /// <summary>
    /// Runs one short request so that kernel compilation and first-use costs are not charged to
    /// the trace's first requests; then waits until the engine publishes its page counts.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        int vocab = engine.Config.VocabSize;
        var prompt = Enumerable.Range(0, 8).Select(i => (WorkloadGenerator.DefaultMinTokenId + i) % vocab).ToArray();
        var request = new GenerationRequest { PromptTokens = prompt, Sampling = new SamplingParams { MaxNewTokens = 2, IgnoreEos = true } };
        await foreach (var _ in engine.Generate(request, cancellationToken).ConfigureAwait(false))
        {
        }
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (engine.GetStats() is { PagesTotal: 0 } or { Running: > 0 } && DateTime.UtcNow < deadline)
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Registers the workload's adapters with the engine: synthetic weights of each adapter's
    /// rank on q, k, v and o (S-LoRA's benchmark targets), with progress every 100.
    /// </summary>
    public static async Task RegisterAdaptersAsync(LlmEngine engine, WorkloadSpec spec, Action<string> progress)
    {
        var adapters = WorkloadGenerator.Adapters(spec);
        string[] targets = ["q_proj", "k_proj", "v_proj", "o_proj"];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < adapters.Count; i++)
        {
            var a = adapters[i];
            await engine.RegisterAdapterAsync(SLoRA.Engine.Adapters.LoraAdapter.Synthetic(engine.Config, a.Id, a.Rank, targets, seed: a.Index)).ConfigureAwait(false);
            if ((i + 1) % 100 == 0 || i + 1 == adapters.Count)
                progress($"[adapters] registered {i + 1}/{adapters.Count} ({clock.Elapsed.TotalSeconds:F0} s)");
        }
    }
}
