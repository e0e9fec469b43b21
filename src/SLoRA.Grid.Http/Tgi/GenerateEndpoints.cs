using System.Text;
using SLoRA.Grid.Http.Generation;
using SLoRA.Grid.Http.Json;
using SLoRA.Grid.Http.Streaming;

namespace SLoRA.Grid.Http.Tgi;

/// <summary>S-LoRA's POST /generate and /generate_stream (TGI's shapes).</summary>
public static class GenerateEndpoints
{
    /// <summary>POST /generate: {"generated_text": "..."}.</summary>
    public static async Task<IResult> GenerateAsync(HttpContext context, GridFacade facade)
    {
        var request = await ParseAsync(context, facade);
        await using var generation = await facade.StartAsync(request.Target, request.Request, "generate", TgiRequest.Params, context.RequestAborted);
        var text = new StringBuilder();
        await foreach (var chunk in generation.ReadAllAsync())
            text.Append(chunk.Text);
        if (FinishReasons.Failure(generation.FinishReason) is { } failure)
            throw failure;
        return Results.Json(new GenerateResponse(text.ToString()) { Details = request.Details ? Details(request, generation) : null }, ApiJson.Options);
    }

    /// <summary>
    /// POST /generate_stream: one <c>data: {"token": {...}, "generated_text": null, "details": null}</c>
    /// event per token; the last carries the whole text and the details.
    /// </summary>
    public static async Task<IResult> GenerateStreamAsync(HttpContext context, GridFacade facade)
    {
        var request = await ParseAsync(context, facade);
        await using var generation = await facade.StartAsync(request.Target, request.Request, "generate_stream", TgiRequest.Params, context.RequestAborted);
        var text = new StringBuilder();
        return await EventStreamRunner.RunAsync(context, generation, chunk =>
        {
            text.Append(chunk.Text);
            if (chunk.TokenId < 0)
                return Task.CompletedTask;
            bool last = chunk.FinishReason is not null;
            return ServerSentEvents.WriteAsync(context, new StreamEvent(new StreamToken(chunk.TokenId, chunk.Text, chunk.Logprob, false),
                last ? text.ToString() : null, last ? Details(request, generation) : null));
        }, () => Task.CompletedTask);
    }

    private static async Task<TgiRequest> ParseAsync(HttpContext context, GridFacade facade)
    {
        using var body = await JsonBody.ReadObjectAsync(context.Request, context.RequestAborted);
        return TgiRequest.Parse(body.RootElement, facade.Models);
    }

    private static GenerateDetails Details(TgiRequest request, GenerationStream generation) =>
        new(FinishReasons.ToApi(generation.FinishReason), generation.CompletionTokens, generation.PromptTokens, request.Request.Sampling.Seed);
}
