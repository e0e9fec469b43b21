using SLoRA.Grid.Generation;
using SLoRA.Grid.Http.Errors;

namespace SLoRA.Grid.Http.Generation;

/// <summary>Finish reasons as the APIs write them.</summary>
public static class FinishReasons
{
    /// <summary>"stop" or "length" (OpenAI and TGI alike); null while the generation runs.</summary>
    public static string? ToApi(FinishReason? reason) => reason switch
    {
        FinishReason.Length => "length",
        FinishReason.Stop => "stop",
        null => null,
        _ => "error",
    };

    /// <summary>The error to report when a generation ended abnormally after it was accepted; null when it ended well.</summary>
    public static ApiException? Failure(FinishReason? reason) => reason switch
    {
        FinishReason.Error => new ApiException(StatusCodes.Status500InternalServerError, "the engine failed while generating.", "server_error", null, "generation_failed"),
        FinishReason.DeadlineExceeded => new ApiException(StatusCodes.Status503ServiceUnavailable, "the request could not start in time.", "server_error", null, "deadline_exceeded") { RetryAfterSeconds = 1 },
        FinishReason.Cancelled => new ApiException(StatusCodes.Status503ServiceUnavailable, "the request was cancelled on the silo (it is shutting down?).", "server_error", null, "cancelled") { RetryAfterSeconds = 1 },
        _ => null,
    };
}
