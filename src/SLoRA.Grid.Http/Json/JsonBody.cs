using System.Text.Json;
using SLoRA.Grid.Http.Errors;

namespace SLoRA.Grid.Http.Json;

/// <summary>Reads a request body as one JSON object, refusing anything else with a 400 that says why.</summary>
public static class JsonBody
{
    /// <summary>Most bytes a generation request may have (prompts and messages included).</summary>
    public const int MaxBytes = 8 << 20;

    /// <summary>The body as a JSON object. Any content type is accepted (curl -d sends a form type).</summary>
    public static async Task<JsonDocument> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is > MaxBytes)
            throw new ApiException(StatusCodes.Status413PayloadTooLarge, $"the request body has {request.ContentLength} bytes, above the limit of {MaxBytes}.", "invalid_request_error", null, "request_too_large");
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 32 }, cancellationToken);
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"the request body is not valid JSON: {e.Message}", null, "invalid_json");
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            throw ApiException.BadRequest($"the request body must be a JSON object, got {Describe(kind)}.", null, "invalid_json");
        }
        return document;
    }

    /// <summary>"a string", "an array", ... for messages.</summary>
    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
