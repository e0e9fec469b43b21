using System.Text.Json;

namespace SLoRA.Bench;

/// <summary>The offline-throughput plot: the engine with adapters, the engine on the base model, and PEFT's baseline when given.</summary>
public static class OfflinePlot
{
    public static string Svg(IReadOnlyList<OfflineResult> offline, IReadOnlyList<(string Mode, int Batch, double TokensPerSecond)>? peft)
    {
        var series = offline.GroupBy(r => r.Mode)
            .Select(g => (g.Key == "lora" ? "SLoRA.Grid, adapter per request" : "SLoRA.Grid, base model",
                (IReadOnlyList<(double, double)>)g.Select(r => ((double)r.Batch, r.OutputTokensPerSecond)).ToList()))
            .ToList();
        if (peft is not null)
        {
            series.AddRange(peft.GroupBy(p => p.Mode).Select(g => (g.Key == "lora" ? "HF PEFT, adapter per request" : "HF transformers, base model",
                (IReadOnlyList<(double, double)>)g.Select(p => ((double)p.Batch, p.TokensPerSecond)).ToList())));
        }
        return SLoRA.Bench.Svg.LineChart("Offline throughput, Llama-7B shape, H200 (output tokens/s)", "requests in the batch", "tokens/s", series);
    }

    /// <summary>Reads slora-bench's bench.json (and tools/peft_baseline.py's JSON) and writes the plot.</summary>
    public static int Write(string benchJson, string? peftJson, string svgPath)
    {
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        using var bench = JsonDocument.Parse(File.ReadAllText(benchJson));
        var offline = bench.RootElement.GetProperty("offline").Deserialize<List<OfflineResult>>(options)!;
        List<(string, int, double)>? peft = null;
        if (peftJson is not null)
        {
            using var p = JsonDocument.Parse(File.ReadAllText(peftJson));
            peft = p.RootElement.GetProperty("results").EnumerateArray()
                .Select(r => (r.GetProperty("mode").GetString()!, r.GetProperty("batch").GetInt32(), r.GetProperty("output_tokens_per_second").GetDouble()))
                .ToList();
        }
        File.WriteAllText(svgPath, Svg(offline, peft));
        return 0;
    }
}
