using System.Runtime.CompilerServices;
using System.Text.Json;

namespace SLoRA.Grid.Tests.Http;

/// <summary>Reads server-sent events as the facade writes them: "data: ..." lines separated by blank lines.</summary>
internal static class Sse
{
    /// <summary>Each event's data, as it arrives ("[DONE]" included).</summary>
    public static async IAsyncEnumerable<string> ReadAsync(HttpResponseMessage response, [EnumeratorCancellation] CancellationToken ct = default)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
                continue;
            Assert.StartsWith("data: ", line);
            yield return line["data: ".Length..];
        }
    }

    /// <summary>Every event; JSON events parsed, the closing [DONE] kept as null.</summary>
    public static async Task<List<JsonElement?>> ReadAllAsync(HttpResponseMessage response)
    {
        var events = new List<JsonElement?>();
        await foreach (var data in ReadAsync(response))
            events.Add(data == "[DONE]" ? null : JsonDocument.Parse(data).RootElement.Clone());
        return events;
    }
}
