using System.Text.Json;

namespace SLoRA.Engine.Tokenization;

/// <summary>
/// Reads the JSON files of a Hugging Face model folder, turning every problem into a
/// <see cref="TokenizerLoadException"/> that names the file and the field.
/// </summary>
internal static class JsonFile
{
    private static readonly JsonDocumentOptions Options = new()
    {
        // Hand-edited configs sometimes carry these; they are harmless to accept.
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Parses <paramref name="path"/>; the root must be a JSON object.</summary>
    public static JsonDocument Parse(string path)
    {
        JsonDocument document;
        try
        {
            using FileStream stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream, Options);
        }
        catch (JsonException e)
        {
            throw new TokenizerLoadException(path, $"invalid JSON ({e.Message})", e);
        }
        catch (IOException e)
        {
            throw new TokenizerLoadException(path, $"cannot be read ({e.Message})", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new TokenizerLoadException(path, $"cannot be read ({e.Message})", e);
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new TokenizerLoadException(path, "the top-level JSON value is not an object");
        }

        return document;
    }

    /// <summary>Gets a property, treating an explicit JSON null as absent.</summary>
    public static bool TryGet(JsonElement obj, string name, out JsonElement value)
    {
        if (obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Gets a property that must be present and of <paramref name="kind"/>.</summary>
    public static JsonElement Required(JsonElement obj, string name, JsonValueKind kind, string path, string field)
    {
        if (!TryGet(obj, name, out JsonElement value))
        {
            throw new TokenizerLoadException(path, $"field '{field}' is missing");
        }

        return ExpectKind(value, kind, path, field);
    }

    /// <summary>Gets an optional property that, when present, must be of <paramref name="kind"/>.</summary>
    public static JsonElement? Optional(JsonElement obj, string name, JsonValueKind kind, string path, string field) =>
        TryGet(obj, name, out JsonElement value) ? ExpectKind(value, kind, path, field) : null;

    /// <summary>Gets an optional string property.</summary>
    public static string? OptionalString(JsonElement obj, string name, string path, string field) =>
        Optional(obj, name, JsonValueKind.String, path, field)?.GetString();

    /// <summary>Gets an optional boolean property.</summary>
    public static bool? OptionalBool(JsonElement obj, string name, string path, string field)
    {
        if (!TryGet(obj, name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new TokenizerLoadException(path, $"field '{field}' must be a boolean, not {Describe(value.ValueKind)}"),
        };
    }

    /// <summary>Reads a JSON number that must be a non-negative 32-bit integer (a token id).</summary>
    public static int TokenId(JsonElement value, string path, string field)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int id) || id < 0)
        {
            throw new TokenizerLoadException(path, $"field '{field}' must be a non-negative integer token id, not {value.GetRawText()}");
        }

        return id;
    }

    private static JsonElement ExpectKind(JsonElement value, JsonValueKind kind, string path, string field)
    {
        if (value.ValueKind != kind)
        {
            throw new TokenizerLoadException(path, $"field '{field}' must be {Describe(kind)}, not {Describe(value.ValueKind)}");
        }

        return value;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
