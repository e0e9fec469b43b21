using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using SLoRA.Grid.Http.Errors;
using SLoRA.Grid.Http.Json;

namespace SLoRA.Grid.Http.Streaming;

/// <summary>
/// Server-sent events as OpenAI and TGI write them: one <c>data: {json}</c> line and a blank line
/// per event, flushed at once; OpenAI streams end with <c>data: [DONE]</c>.
/// </summary>
public static class ServerSentEvents
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    /// <summary>Sends the 200 and the event-stream headers, unbuffered.</summary>
    public static Task StartAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return response.StartAsync(context.RequestAborted);
    }

    /// <summary>Writes one event carrying <paramref name="payload"/> as JSON.</summary>
    public static async Task WriteAsync<T>(HttpContext context, T payload)
    {
        var body = context.Response.Body;
        var ct = context.RequestAborted;
        await body.WriteAsync(DataPrefix, ct);
        await body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(payload, ApiJson.Options), ct);
        await body.WriteAsync(EventEnd, ct);
        await body.FlushAsync(ct);
    }

    /// <summary>Writes OpenAI's closing <c>data: [DONE]</c>.</summary>
    public static async Task WriteDoneAsync(HttpContext context)
    {
        await context.Response.Body.WriteAsync(Done, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    /// <summary>An error after the stream has started: one event with the OpenAI-style error body (as vLLM sends it).</summary>
    public static Task WriteErrorAsync(HttpContext context, ApiException error) =>
        WriteAsync(context, new ApiErrorBody(ApiError.From(error)));
}
