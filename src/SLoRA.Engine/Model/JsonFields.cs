using System.Text.Json;

namespace SLoRA.Engine.Model;

/// <summary>
/// Typed access to the fields of a JSON config object (config.json, adapter_config.json): a null
/// value counts as absent, and a value of the wrong kind is refused with a message naming the
/// field, as the <typeparamref name="TError"/> the caller's file format reports.
/// </summary>
internal class JsonFields<TError>(JsonElement element, Func<string, TError> error) where TError : Exception
{
    public bool IsPresent(string name) => Get(name) is not null;

    /// <summary>The value as written in the file, for messages.</summary>
    public string Raw(string name) => Get(name)?.GetRawText() ?? "null";

    public int RequiredInt(string name) => Int(name) ?? throw Error($"missing required field '{name}'.");

    public int? Int(string name) => Get(name) is not { } value
        ? null
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw Error($"field '{name}' must be an integer, found {value.GetRawText()}.");

    public double? Number(string name) => Get(name) is not { } value
        ? null
        : value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : throw Error($"field '{name}' must be a number, found {value.GetRawText()}.");

    public bool? Bool(string name) => Get(name) is not { } value
        ? null
        : value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : throw Error($"field '{name}' must be true or false, found {value.GetRawText()}.");

    public string? String(string name) => Get(name) is not { } value
        ? null
        : value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw Error($"field '{name}' must be a string, found {value.GetRawText()}.");

    /// <summary>The nested object, or null when absent, null, or not an object (callers check); its errors name the field.</summary>
    public JsonFields<TError>? Object(string name) =>
        Get(name) is { ValueKind: JsonValueKind.Object } value ? new JsonFields<TError>(value, problem => error($"{name}: {problem}")) : null;

    /// <summary>An integer or a list of integers (as eos_token_id or layers_to_transform); null when absent.</summary>
    public int[]? IntOrIntList(string name)
    {
        if (Get(name) is not { } value)
            return null;
        if (value.ValueKind != JsonValueKind.Array)
            return [Int(name)!.Value];
        return value.EnumerateArray()
            .Select(item => item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var number)
                ? number
                : throw Error($"field '{name}' must be an integer or a list of integers, found {value.GetRawText()}."))
            .ToArray();
    }

    public TError Error(string problem) => error(problem);

    protected JsonElement? Get(string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}
