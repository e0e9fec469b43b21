using System.Globalization;
using System.Text;
using System.Text.Json;
using SLoRA.LoadTests.Replay;

namespace SLoRA.LoadTests.Reporting;

/// <summary>Per-request results as CSV, one row per trace request, for a spreadsheet or pandas.</summary>
public static class RequestsCsv
{
    private const string Header =
        "index,adapter_id,input_length,output_length,due_s,sent_s,first_token_latency_s,latency_s,output_tokens,finish_reason,failure,error";

    /// <summary>Writes <paramref name="requests"/> to <paramref name="path"/>.</summary>
    public static void Write(IReadOnlyList<RequestResult> requests, string path) => File.WriteAllText(path, Render(requests));

    /// <summary>The CSV text.</summary>
    public static string Render(IReadOnlyList<RequestResult> requests)
    {
        var csv = new StringBuilder(Header).Append('\n');
        foreach (var r in requests)
        {
            string failure = r.Failure is { } f ? JsonNamingPolicy.SnakeCaseLower.ConvertName(f.ToString()) : "";
            csv.Append(CultureInfo.InvariantCulture,
                $"{r.Index},{Quote(r.AdapterId)},{r.InputLength},{r.OutputLength},{r.DueSeconds:F4},{Num(r.SentSeconds)},{Num(r.FirstTokenLatency)},{Num(r.Latency)},{r.OutputTokens},{Quote(r.FinishReason)},{failure},{Quote(r.Error)}\n");
        }
        return csv.ToString();
    }

    private static string Num(double? value) => value is { } v ? v.ToString("F4", CultureInfo.InvariantCulture) : "";

    private static string Quote(string? text) =>
        text is null ? "" : text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
}
