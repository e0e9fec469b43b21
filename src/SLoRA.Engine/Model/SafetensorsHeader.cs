using System.Text.Json;

namespace SLoRA.Engine.Model;

/// <summary>
/// Parses and validates the JSON header of a safetensors file against the size of its data
/// section, so that every later read stays inside the file and inside its own tensor.
/// </summary>
internal static class SafetensorsHeader
{
    private const string MetadataKey = "__metadata__";

    public static (Dictionary<string, SafetensorsTensorInfo> Tensors, Dictionary<string, string> Metadata) Parse(
        ReadOnlyMemory<byte> json, long dataLength, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"{path}: safetensors header is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelLoadException($"{path}: safetensors header must be a JSON object, found {root.ValueKind}.");
            }

            var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    ParseMetadata(property.Value, path, metadata);
                }
                else if (!tensors.TryAdd(property.Name, ParseTensor(property.Name, property.Value, dataLength, path)))
                {
                    throw new ModelLoadException($"{path}: tensor '{property.Name}' appears twice in the header.");
                }
            }

            CheckNoOverlap(tensors.Values, path);
            return (tensors, metadata);
        }
    }

    private static void ParseMetadata(JsonElement element, string path, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ModelLoadException($"{path}: {MetadataKey} must be an object of strings, found {element.ValueKind}.");
        }

        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new ModelLoadException(
                    $"{path}: {MetadataKey} entry '{entry.Name}' must be a string, found {entry.Value.ValueKind}.");
            }

            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private static SafetensorsTensorInfo ParseTensor(string name, JsonElement element, long dataLength, string path)
    {
        var where = $"{path}: tensor '{name}'";
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ModelLoadException($"{where}: header entry must be an object, found {element.ValueKind}.");
        }

        var dtypeName = Required(element, "dtype", JsonValueKind.String, where).GetString()!;
        if (!SafetensorsDTypes.TryParseHeaderName(dtypeName, out var dtype))
        {
            throw new ModelLoadException($"{where}: unknown dtype '{dtypeName}'.");
        }

        var shape = ReadIntegers(Required(element, "shape", JsonValueKind.Array, where), "shape", where);
        var offsets = ReadIntegers(Required(element, "data_offsets", JsonValueKind.Array, where), "data_offsets", where);
        if (offsets.Length != 2)
        {
            throw new ModelLoadException($"{where}: data_offsets must hold exactly [begin, end], found {offsets.Length} numbers.");
        }

        var (begin, end) = (offsets[0], offsets[1]);
        if (begin > end || end > dataLength)
        {
            throw new ModelLoadException(
                $"{where}: data_offsets [{begin}, {end}] lie outside the data section of {dataLength} bytes " +
                "(truncated file?).");
        }

        var dims = new int[shape.Length];
        for (var i = 0; i < shape.Length; i++)
        {
            if (shape[i] > int.MaxValue)
            {
                throw new ModelLoadException($"{where}: dimension {i} is {shape[i]}, larger than supported.");
            }

            dims[i] = (int)shape[i];
        }

        var size = dtype.SizeInBytes();
        var count = Shapes.TryElementCount(shape);
        var expectedBytes = count is { } c && c <= long.MaxValue / size ? c * size : (long?)null;
        if (expectedBytes != end - begin)
        {
            throw new ModelLoadException(
                $"{where}: shape {Shapes.Format(dims)} of {dtypeName} needs {expectedBytes?.ToString() ?? "over 2^63"} bytes, " +
                $"but data_offsets [{begin}, {end}] hold {end - begin}.");
        }

        return new SafetensorsTensorInfo(name, dtype, dims, begin, end);
    }

    private static JsonElement Required(JsonElement entry, string field, JsonValueKind kind, string where)
    {
        if (!entry.TryGetProperty(field, out var value))
        {
            throw new ModelLoadException($"{where}: missing '{field}'.");
        }

        if (value.ValueKind != kind)
        {
            throw new ModelLoadException($"{where}: '{field}' must be {kind}, found {value.ValueKind}.");
        }

        return value;
    }

    private static long[] ReadIntegers(JsonElement array, string field, string where)
    {
        var values = new long[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var value) || value < 0)
            {
                throw new ModelLoadException($"{where}: '{field}' must hold non-negative integers, found {item.GetRawText()}.");
            }

            values[i++] = value;
        }

        return values;
    }

    /// <summary>Sorted by start, each tensor must begin at or after the end of the one before it.</summary>
    private static void CheckNoOverlap(IEnumerable<SafetensorsTensorInfo> tensors, string path)
    {
        SafetensorsTensorInfo? previous = null;
        foreach (var tensor in tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.DataBegin))
        {
            if (previous is not null && tensor.DataBegin < previous.DataEnd)
            {
                throw new ModelLoadException(
                    $"{path}: tensors '{previous.Name}' [{previous.DataBegin}, {previous.DataEnd}) and " +
                    $"'{tensor.Name}' [{tensor.DataBegin}, {tensor.DataEnd}) overlap.");
            }

            previous = tensor;
        }
    }
}
