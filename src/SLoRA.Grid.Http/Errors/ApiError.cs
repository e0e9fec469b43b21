using System.Text.Json.Serialization;

namespace SLoRA.Grid.Http.Errors;

/// <summary>The body of every error response, as OpenAI writes it.</summary>
/// <param name="Error">What went wrong.</param>
public sealed record ApiErrorBody([property: JsonPropertyName("error")] ApiError Error);

/// <summary>OpenAI's error object; <see cref="Param"/> and <see cref="Code"/> are written as null when unknown.</summary>
/// <param name="Message">For humans.</param>
/// <param name="Type">invalid_request_error, authentication_error, rate_limit_error or server_error.</param>
/// <param name="Param">The request field at fault.</param>
/// <param name="Code">A short machine-readable code.</param>
public sealed record ApiError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code)
{
    /// <summary>The error object of <paramref name="e"/>.</summary>
    public static ApiError From(ApiException e) => new(e.Message, e.Type, e.Param, e.Code);
}
