using System.Text.Json;

namespace SLoRA.Bench;

/// <summary>
/// S-LoRA's table as a plot: throughput (req/s) against the number of adapters for each setting,
/// beside S-LoRA's published A100-80GB figures, so the flatness as n grows can be seen at a glance.
/// </summary>
public static class TablePlot
{
    /// <summary>S-LoRA's Table 3 (A100-80GB, Llama-7B): req/s at n = 5, 100, 1000, 2000.</summary>
    public static readonly IReadOnlyDictionary<string, double[]> Published = new Dictionary<string, double[]>
    {
        ["S1"] = [8.05, 7.99, 7.64, 7.61],
        ["S2"] = [7.48, 7.29, 6.69, 6.71],
    };

    private static readonly int[] PublishedAdapters = [5, 100, 1000, 2000];

    public static string Svg(IReadOnlyList<(string Setting, int Adapters, double RequestsPerSecond)> rows, string device)
    {
        var series = new List<(string, IReadOnlyList<(double, double)>)>();
        foreach (var g in rows.GroupBy(r => r.Setting).OrderBy(g => g.Key))
            series.Add(($"SLoRA.Grid {g.Key} ({device})", g.Select(r => ((double)r.Adapters, r.RequestsPerSecond)).ToList()));
        foreach (var (setting, values) in Published.Where(p => rows.Any(r => r.Setting == p.Key)))
            series.Add(($"S-LoRA {setting} (A100-80GB, paper)", PublishedAdapters.Zip(values, (n, v) => ((double)n, v)).ToList()));
        return SLoRA.Bench.Svg.LineChart("S-LoRA's table: throughput as adapters grow (req/s)", "adapters (n)", "requests/s", series);
    }

    /// <summary>Reads slora-loadtest table's table.json and writes the plot.</summary>
    public static int Write(string tableJson, string svgPath, string device)
    {
        using var table = JsonDocument.Parse(File.ReadAllText(tableJson));
        var rows = table.RootElement.EnumerateArray()
            .Select(r => (r.GetProperty("setting").GetString()!, r.GetProperty("adapters").GetInt32(), r.GetProperty("throughput_req_s").GetDouble()))
            .ToList();
        File.WriteAllText(svgPath, Svg(rows, device));
        return 0;
    }
}
