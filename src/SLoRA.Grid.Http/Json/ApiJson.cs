using System.Text.Encodings.Web;
using System.Text.Json;

namespace SLoRA.Grid.Http.Json;

/// <summary>How the facade writes JSON: snake_case names, nulls written (OpenAI and TGI clients expect "finish_reason": null).</summary>
public static class ApiJson
{
    /// <summary>The serializer options of every response.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Generated text is any Unicode; escape only what JSON needs.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
