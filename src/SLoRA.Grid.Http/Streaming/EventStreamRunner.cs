using SLoRA.Grid.Generation;
using SLoRA.Grid.Http.Errors;
using SLoRA.Grid.Http.Generation;

namespace SLoRA.Grid.Http.Streaming;

/// <summary>
/// Streams an accepted generation as server-sent events: the 200 goes out, then one event per
/// chunk the dialect writes, then its closing events. A client that disconnects ends the loop
/// (its RequestAborted cancels the grain call, which frees the request's pages on the silo); an
/// error after the start is sent as one error event, since the status is already written.
/// </summary>
public static class EventStreamRunner
{
    /// <summary>Runs <paramref name="generation"/> to its end or the client's departure.</summary>
    public static async Task<IResult> RunAsync(HttpContext context, GenerationStream generation, Func<TokenChunk, Task> writeChunk, Func<Task> writeEnd)
    {
        try
        {
            await ServerSentEvents.StartAsync(context);
            await foreach (var chunk in generation.ReadAllAsync())
                await writeChunk(chunk);
            if (FinishReasons.Failure(generation.FinishReason) is { } failure)
            {
                await ServerSentEvents.WriteErrorAsync(context, failure);
                return Results.Empty;
            }
            await writeEnd();
        }
        catch (ApiException e) when (!context.RequestAborted.IsCancellationRequested)
        {
            generation.SetStatus(e.Status);
            await ServerSentEvents.WriteErrorAsync(context, e);
        }
        catch (Exception e) when (context.RequestAborted.IsCancellationRequested && e is OperationCanceledException or IOException)
        {
            generation.SetStatus(499);
        }
        return Results.Empty;
    }
}
