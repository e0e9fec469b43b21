using SLoRA.LoadTests.Replay;

namespace SLoRA.LoadTests.Reporting;

/// <summary>The files a replay leaves in its output folder.</summary>
public static class ReplayFiles
{
    /// <summary>The summary (snake_case JSON).</summary>
    public const string Report = "report.json";

    /// <summary>One row per request.</summary>
    public const string Requests = "requests.csv";

    /// <summary>Latency CDF, throughput, queues and pages over time.</summary>
    public const string Plot = "replay.svg";

    /// <summary>Writes all three into <paramref name="folder"/> (created if need be); returns their paths.</summary>
    public static IReadOnlyList<string> Write(ReplayResult result, string folder)
    {
        Directory.CreateDirectory(folder);
        string report = Path.Combine(folder, Report), requests = Path.Combine(folder, Requests), plot = Path.Combine(folder, Plot);
        File.WriteAllText(report, ReportJson.Serialize(result.Report));
        RequestsCsv.Write(result.Requests, requests);
        ReplayPlot.Write(result, plot);
        return [report, requests, plot];
    }
}
