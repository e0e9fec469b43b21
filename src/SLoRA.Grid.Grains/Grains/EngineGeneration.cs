using System.Runtime.CompilerServices;
using SLoRA.Engine.Serving;
using SLoRA.Grid.Errors;
using SLoRA.Grid.Generation;

namespace SLoRA.Grid.Grains;

/// <summary>Runs a wire request on an engine and streams wire chunks, turning engine errors into the grid's.</summary>
internal static class EngineGeneration
{
    /// <summary>
    /// Streams <paramref name="request"/> on <paramref name="engine"/> with <paramref name="adapterId"/>
    /// (null: the base model). Cancelling, or disposing the stream early, cancels the engine request.
    /// </summary>
    public static async IAsyncEnumerable<TokenChunk> StreamAsync(
        LlmEngine engine, GenerateRequest? request, string? adapterId, TimeSpan retryAfter,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (request is null)
            throw new InvalidGenerationRequestException("request", "a generation request is required.");
        request = TokenizeChecked(engine, request);
        int? promptTokens = request.PromptTokens?.Count;
        IAsyncEnumerator<SLoRA.Engine.Generation.TokenChunk> tokens;
        try
        {
            tokens = engine.Generate(request.ToEngine(adapterId), cancellationToken).GetAsyncEnumerator(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Translate(e, adapterId, retryAfter);
        }
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await tokens.MoveNextAsync();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    throw Translate(e, adapterId, retryAfter);
                }
                if (!more)
                    break;
                var chunk = tokens.Current.ToWire();
                if (promptTokens is { } count)
                {
                    // The first chunk says how long the prompt was, for usage counts.
                    chunk = chunk with { PromptTokens = count };
                    promptTokens = null;
                }
                yield return chunk;
            }
        }
        finally
        {
            await tokens.DisposeAsync();
        }
    }

    /// <summary>
    /// Tokenizes a text prompt here, with the engine's own tokenizing and checks (so that the
    /// chunks can carry the prompt's token count); the engine's ArgumentException becomes the
    /// caller's InvalidGenerationRequestException.
    /// </summary>
    private static GenerateRequest TokenizeChecked(LlmEngine engine, GenerateRequest request)
    {
        if (request.PromptTokens is not null || request.Prompt is not { } text || engine.Tokenizer is null)
            return request;
        try
        {
            return request with { PromptTokens = engine.TokenizePrompt(text) };
        }
        catch (ArgumentException e)
        {
            throw new InvalidGenerationRequestException(e.ParamName ?? "prompt", e.Message);
        }
    }

    /// <summary>The grid error a caller sees for an engine exception.</summary>
    public static GridException Translate(Exception e, string? adapterId, TimeSpan retryAfter) => e switch
    {
        GridException grid => grid,
        UnknownAdapterException u => new AdapterNotFoundException(adapterId ?? u.AdapterId),
        EngineOverloadedException => new GridOverloadedException(e.Message, retryAfter),
        ArgumentException a => new InvalidGenerationRequestException(a.ParamName ?? "request", a.Message),
        ObjectDisposedException => new GridOverloadedException("this silo is shutting down; retry.", retryAfter),
        // The engine fails a request it cannot fit in the page pool right now.
        InvalidOperationException => new GridOverloadedException(e.Message, retryAfter),
        _ => new GridException($"generation failed for '{adapterId ?? "the base model"}': {e.Message}"),
    };
}
