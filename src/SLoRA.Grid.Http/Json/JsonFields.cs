using System.Globalization;
using System.Text.Json;
using SLoRA.Grid.Http.Errors;

namespace SLoRA.Grid.Http.Json;

/// <summary>
/// Typed reads of a JSON object's fields. A missing field or an explicit null is absent; a value
/// of the wrong type or out of range is a 400 naming the field (with <see cref="Prefix"/> for
/// nested objects, e.g. "parameters.top_p"). Unknown fields are ignored, as OpenAI clients send
/// many that this server does not use.
/// </summary>
public readonly struct JsonFields(JsonElement element, string prefix = "")
{
    /// <summary>The object read.</summary>
    public JsonElement Element { get; } = element;

    /// <summary>Prefix of the field names in error messages ("" at the top level).</summary>
    public string Prefix { get; } = prefix;

    /// <summary>The field's full name for messages.</summary>
    public string Name(string field) => Prefix + field;

    /// <summary>The raw value, or null when absent or null.</summary>
    public JsonElement? Get(string field) =>
        Element.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>A string field; <paramref name="required"/> makes absence a 400.</summary>
    public string? String(string field, bool required = false)
    {
        if (Get(field) is not { } value)
            return required ? throw Missing(field) : null;
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw WrongType(field, "a string", value);
    }

    /// <summary>A boolean field.</summary>
    public bool? Bool(string field)
    {
        if (Get(field) is not { } value)
            return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(field, "a boolean", value),
        };
    }

    /// <summary>An integer field within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public long? Integer(string field, long min = long.MinValue, long max = long.MaxValue)
    {
        if (Get(field) is not { } value)
            return null;
        if (value.ValueKind != JsonValueKind.Number)
            throw WrongType(field, "an integer", value);
        if (!value.TryGetInt64(out long n))
        {
            // 3.0 is an integer written as a float; 3.5 or 1e30 is not.
            if (!value.TryGetDouble(out double d) || d != Math.Floor(d) || d < long.MinValue || d > long.MaxValue)
                throw ApiException.BadRequest($"'{Name(field)}' must be an integer, got {value.GetRawText()}.", Name(field), "invalid_type");
            n = (long)d;
        }
        if (n < min || n > max)
            throw OutOfRange(field, value.GetRawText(), Range(min, max));
        return n;
    }

    /// <summary>An integer field that fits an int.</summary>
    public int? Int(string field, int min = int.MinValue, int max = int.MaxValue) => (int?)Integer(field, min, max);

    /// <summary>
    /// A finite number within [<paramref name="min"/>, <paramref name="max"/>]; with
    /// <paramref name="exclusiveMin"/> the lower bound itself is refused.
    /// </summary>
    public double? Number(string field, double min, double max, bool exclusiveMin = false)
    {
        if (Get(field) is not { } value)
            return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double d))
            throw WrongType(field, "a number", value);
        if (!double.IsFinite(d) || d > max || d < min || (exclusiveMin && d == min))
            throw OutOfRange(field, value.GetRawText(), $"{(exclusiveMin ? "(" : "[")}{F(min)}, {F(max)}]");
        return d;
    }

    /// <summary>A string or a list of strings (OpenAI's "stop"); at most <paramref name="maxItems"/>, none empty.</summary>
    public IReadOnlyList<string>? StringOrStrings(string field, int maxItems)
    {
        if (Get(field) is not { } value)
            return null;
        List<string> items = [];
        if (value.ValueKind == JsonValueKind.String)
        {
            items.Add(value.GetString()!);
        }
        else if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                    throw WrongType(field, "a string or a list of strings", item);
                items.Add(item.GetString()!);
            }
        }
        else
        {
            throw WrongType(field, "a string or a list of strings", value);
        }
        if (items.Count > maxItems)
            throw ApiException.BadRequest($"'{Name(field)}' has {items.Count} entries; at most {maxItems} are allowed.", Name(field));
        if (items.Any(string.IsNullOrEmpty))
            throw ApiException.BadRequest($"'{Name(field)}' must not contain empty strings.", Name(field));
        return items;
    }

    /// <summary>A nested object field, read with a prefixed name; null when absent.</summary>
    public JsonFields? Object(string field)
    {
        if (Get(field) is not { } value)
            return null;
        return value.ValueKind == JsonValueKind.Object ? new JsonFields(value, Name(field) + ".") : throw WrongType(field, "an object", value);
    }

    /// <summary>A 400 for a required field that is missing.</summary>
    public ApiException Missing(string field) =>
        ApiException.BadRequest($"'{Name(field)}' is required.", Name(field), "missing_required_parameter");

    /// <summary>A 400 for a field of the wrong type.</summary>
    public ApiException WrongType(string field, string expected, JsonElement got) =>
        ApiException.BadRequest($"'{Name(field)}' must be {expected}, got {JsonBody.Describe(got.ValueKind)}.", Name(field), "invalid_type");

    private ApiException OutOfRange(string field, string got, string range) =>
        ApiException.BadRequest($"'{Name(field)}' must be in {range}, got {got}.", Name(field));

    private static string Range(long min, long max) =>
        max == long.MaxValue ? $"[{min}, ∞)" : $"[{min}, {max}]";

    private static string F(double d) => d.ToString(CultureInfo.InvariantCulture);
}
