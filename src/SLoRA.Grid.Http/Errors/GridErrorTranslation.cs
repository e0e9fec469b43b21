using Orleans.Runtime;
using SLoRA.Grid.Errors;

namespace SLoRA.Grid.Http.Errors;

/// <summary>
/// The HTTP answer to each error the grid raises (docs/GRID.md has the table). Request field
/// names are the grid's (max_new_tokens, prompt); an endpoint passes <c>paramNames</c> to say
/// them in its own dialect (max_tokens for OpenAI).
/// </summary>
public static class GridErrorTranslation
{
    /// <summary>The <see cref="ApiException"/> for <paramref name="e"/>, or null when it is not a grid or cluster error.</summary>
    public static ApiException? Translate(Exception e, string model, IReadOnlyDictionary<string, string>? paramNames = null, TimeSpan? defaultRetryAfter = null)
    {
        int retry = RetrySeconds(defaultRetryAfter ?? TimeSpan.FromSeconds(1));
        return e switch
        {
            ApiException api => api,
            AdapterNotFoundException => ApiException.ModelNotFound(model, Rename("model", paramNames) ?? "model"),
            InvalidGenerationRequestException bad => ApiException.BadRequest(bad.Message, Rename(bad.Parameter, paramNames)),
            AdapterRejectedException rejected => new ApiException(StatusCodes.Status422UnprocessableEntity, rejected.Message, "invalid_request_error", "model", "adapter_rejected"),
            GridOverloadedException overloaded => new ApiException(StatusCodes.Status429TooManyRequests, overloaded.Message, "rate_limit_error", null, "overloaded")
            {
                RetryAfterSeconds = overloaded.RetryAfter > TimeSpan.Zero ? RetrySeconds(overloaded.RetryAfter) : retry,
            },
            AdapterStoreUnavailableException or NoGpuSiloAvailableException => Unavailable(e.Message, retry),
            // The silo serving the request left or timed out: the next call goes to a new activation.
            SiloUnavailableException or OrleansMessageRejectionException or EnumerationAbortedException or TimeoutException => Unavailable($"the grid could not serve the request now: {e.Message}", retry),
            GridException => new ApiException(StatusCodes.Status500InternalServerError, e.Message, "server_error", null, "generation_failed"),
            _ => null,
        };
    }

    private static ApiException Unavailable(string message, int retry) =>
        new(StatusCodes.Status503ServiceUnavailable, message, "server_error", null, "unavailable") { RetryAfterSeconds = retry };

    private static int RetrySeconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds));

    private static string? Rename(string? param, IReadOnlyDictionary<string, string>? names) =>
        param is not null && names is not null && names.TryGetValue(param, out var renamed) ? renamed : param;
}
