
namespace SLoRA.Grid.Http.Errors;

/// <summary>
/// Around every API endpoint: an <see cref="ApiException"/> becomes its error response, a
/// request the client abandoned ends quietly, and anything unexpected is logged and answered
/// with a 500 in the same shape — bad input never escapes as an unhandled exception.
/// </summary>
internal sealed class ApiErrorFilter(ILogger<ApiErrorFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            return await next(context);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            var error = e switch
            {
                ApiException api => api,
                BadHttpRequestException bad => new ApiException(bad.StatusCode, bad.Message, "invalid_request_error", null,
                    bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "request_too_large" : "bad_request"),
                _ => GridErrorTranslation.Translate(e, model: "") ?? Unexpected(e, http),
            };
            return new ApiErrorResult(error);
        }
    }

    private ApiException Unexpected(Exception e, HttpContext http)
    {
        logger.LogError(e, "{Method} {Path} failed", http.Request.Method, http.Request.Path);
        return new ApiException(StatusCodes.Status500InternalServerError, $"the server failed to answer: {e.Message}", "server_error", null, "internal_error");
    }
}
