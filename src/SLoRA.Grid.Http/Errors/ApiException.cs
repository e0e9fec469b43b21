namespace SLoRA.Grid.Http.Errors;

/// <summary>
/// A request the facade answers with an error: an HTTP status and the OpenAI-style body
/// <c>{"error": {"message", "type", "param", "code"}}</c>. Thrown by request parsing and by the
/// translation of grid errors; the endpoint filter writes it.
/// </summary>
public sealed class ApiException(int status, string message, string type, string? param = null, string? code = null) : Exception(message)
{
    /// <summary>The HTTP status.</summary>
    public int Status { get; } = status;

    /// <summary>OpenAI's error type: invalid_request_error, authentication_error, rate_limit_error, server_error.</summary>
    public string Type { get; } = type;

    /// <summary>The request field at fault, if one is.</summary>
    public string? Param { get; } = param;

    /// <summary>A short machine-readable code (model_not_found, invalid_json, ...).</summary>
    public string? Code { get; } = code;

    /// <summary>Seconds the client should wait before retrying (Retry-After), for 429 and 503.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>400: a field is missing, of the wrong type or out of range.</summary>
    public static ApiException BadRequest(string message, string? param = null, string? code = "invalid_value") =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);

    /// <summary>404: no such model (adapter) — never served by the base model instead.</summary>
    public static ApiException ModelNotFound(string model, string param = "model") =>
        new(StatusCodes.Status404NotFound, $"The model '{model}' does not exist: it is neither the base model nor a registered adapter.", "invalid_request_error", param, "model_not_found");
}
