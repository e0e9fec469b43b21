using SLoRA.Grid.Http.Json;

namespace SLoRA.Grid.Http.Errors;

/// <summary>Writes an <see cref="ApiException"/> as its status, a Retry-After header when it has one, and the OpenAI-style body.</summary>
public sealed class ApiErrorResult(ApiException error) : IResult
{
    /// <summary>The error written.</summary>
    public ApiException Error { get; } = error;

    /// <inheritdoc/>
    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = Error.Status;
        if (Error.RetryAfterSeconds is { } seconds)
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return response.WriteAsJsonAsync(new ApiErrorBody(ApiError.From(Error)), ApiJson.Options, httpContext.RequestAborted);
    }
}
