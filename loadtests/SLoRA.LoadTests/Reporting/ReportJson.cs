using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SLoRA.LoadTests.Reporting;

/// <summary>The JSON form of reports: snake_case names and enums, indented.</summary>
public static class ReportJson
{
    /// <summary>The serializer options every report file uses.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a file for people, not HTML: keep ' and + readable
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The report as JSON text.</summary>
    public static string Serialize(ReplayReport report) => JsonSerializer.Serialize(report, Options);

    /// <summary>Reads a report written by <see cref="Serialize"/>.</summary>
    public static ReplayReport Deserialize(string json) =>
        JsonSerializer.Deserialize<ReplayReport>(json, Options) ?? throw new JsonException("the report is null.");
}
