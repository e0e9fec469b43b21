using System.Text;
using SLoRA.Grid.Http.Generation;
using SLoRA.Grid.Http.Json;
using SLoRA.Grid.Http.Streaming;

namespace SLoRA.Grid.Http.OpenAi;

/// <summary>POST /v1/chat/completions: OpenAI's chat completions over <see cref="ChatTemplate"/>, whole or streamed.</summary>
public static class ChatCompletionsEndpoint
{
    /// <summary>The endpoint's metric label.</summary>
    public const string Name = "chat_completions";

    /// <summary>Handles one request.</summary>
    public static async Task<IResult> HandleAsync(HttpContext context, GridFacade facade)
    {
        var ct = context.RequestAborted;
        OpenAiRequest request;
        using (var body = await JsonBody.ReadObjectAsync(context.Request, ct))
            request = OpenAiRequest.ParseChat(body.RootElement, facade.Models);
        await using var generation = await facade.StartAsync(request.Target, request.Request, Name, OpenAiRequest.ChatParams, ct);
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string model = request.Target.Model;
        if (request.Stream)
        {
            ChatCompletionChunk Chunk(ChatDelta delta, string? finish) =>
                new(id, "chat.completion.chunk", created, model, [new ChatChunkChoice(0, delta, null, finish)], null);
            bool first = true;
            return await EventStreamRunner.RunAsync(context, generation,
                async chunk =>
                {
                    if (first)
                    {
                        // OpenAI's first chunk names the role.
                        first = false;
                        await ServerSentEvents.WriteAsync(context, Chunk(new ChatDelta("assistant", ""), null));
                    }
                    if (chunk.Text.Length > 0)
                        await ServerSentEvents.WriteAsync(context, Chunk(new ChatDelta(null, chunk.Text), null));
                    if (chunk.FinishReason is not null && FinishReasons.Failure(chunk.FinishReason) is null)
                        await ServerSentEvents.WriteAsync(context, Chunk(new ChatDelta(null, null), FinishReasons.ToApi(chunk.FinishReason)));
                },
                async () =>
                {
                    if (request.IncludeUsage)
                        await ServerSentEvents.WriteAsync(context, new ChatCompletionChunk(id, "chat.completion.chunk", created, model, [], Usage.Of(generation.PromptTokens, generation.CompletionTokens)));
                    await ServerSentEvents.WriteDoneAsync(context);
                });
        }
        var text = new StringBuilder();
        await foreach (var chunk in generation.ReadAllAsync())
            text.Append(chunk.Text);
        if (FinishReasons.Failure(generation.FinishReason) is { } failure)
            throw failure;
        return Results.Json(new ChatCompletionResponse(id, "chat.completion", created, model,
            [new ChatChoice(0, new ChatMessageOut("assistant", text.ToString()), null, FinishReasons.ToApi(generation.FinishReason))],
            Usage.Of(generation.PromptTokens, generation.CompletionTokens)), ApiJson.Options);
    }
}
