using System.Text;
using SLoRA.Grid.Http.Generation;
using SLoRA.Grid.Http.Json;
using SLoRA.Grid.Http.Streaming;

namespace SLoRA.Grid.Http.OpenAi;

/// <summary>POST /v1/completions: OpenAI's text completions, whole or streamed.</summary>
public static class CompletionsEndpoint
{
    /// <summary>The endpoint's metric label.</summary>
    public const string Name = "completions";

    /// <summary>Handles one request.</summary>
    public static async Task<IResult> HandleAsync(HttpContext context, GridFacade facade)
    {
        var ct = context.RequestAborted;
        OpenAiRequest request;
        using (var body = await JsonBody.ReadObjectAsync(context.Request, ct))
            request = OpenAiRequest.ParseCompletion(body.RootElement, facade.Models);
        await using var generation = await facade.StartAsync(request.Target, request.Request, Name, OpenAiRequest.CompletionParams, ct);
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string model = request.Target.Model;
        if (request.Stream)
        {
            return await EventStreamRunner.RunAsync(context, generation,
                chunk => chunk.Text.Length == 0 && chunk.FinishReason is null ? Task.CompletedTask
                    : ServerSentEvents.WriteAsync(context, new CompletionResponse(id, "text_completion", created, model,
                        [new CompletionChoice(chunk.Text, 0, null, FinishReasons.ToApi(chunk.FinishReason))], null)),
                async () =>
                {
                    if (request.IncludeUsage)
                        await ServerSentEvents.WriteAsync(context, new CompletionResponse(id, "text_completion", created, model, [], Usage.Of(generation.PromptTokens, generation.CompletionTokens)));
                    await ServerSentEvents.WriteDoneAsync(context);
                });
        }
        var text = new StringBuilder();
        await foreach (var chunk in generation.ReadAllAsync())
            text.Append(chunk.Text);
        if (FinishReasons.Failure(generation.FinishReason) is { } failure)
            throw failure;
        return Results.Json(new CompletionResponse(id, "text_completion", created, model,
            [new CompletionChoice(text.ToString(), 0, null, FinishReasons.ToApi(generation.FinishReason))],
            Usage.Of(generation.PromptTokens, generation.CompletionTokens)), ApiJson.Options);
    }
}
