using System.Globalization;
using System.Text.Json;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Execution;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Serving;
using SLoRA.LoadTests.Replay;
using SLoRA.LoadTests.Workload;

namespace SLoRA.LoadTests.Cli;

/// <summary>
/// S-LoRA's table (its Table 3 settings S1 and S2 at several adapter counts) in one process: one
/// engine, and for each (setting, n) the workload's adapters registered, the trace replayed, the
/// adapters unregistered. Synthetic adapters of one rank share their host weights (as S-LoRA's
/// dummy weights are random anyway), packed once (PackedAdapter shares the pinned host array of
/// adapters made with WithId); each is still its own adapter to the engine: its own pages, its
/// own copies between host and device.
/// </summary>
internal static class TableCommand
{
    public static readonly HashSet<string> Keys = ["model", "accelerator", "settings", "adapters", "rate", "cv", "alpha", "duration", "input", "output", "seed", "out", "max-batch", "model-seed"];

    public static async Task<int> RunAsync(CommandLine line, TextWriter stdout, TextWriter stderr)
    {
        var model = ModelChoice.Parse(line.Get("model", "tiny"), line.GetInt("model-seed", 1));
        int maxBatch = line.GetInt("max-batch", 256);
        var options = new EngineOptions
        {
            Accelerator = line.Get("accelerator", AcceleratorPreference.Auto, s => Enum.Parse<AcceleratorPreference>(s, ignoreCase: true)),
            MaxWaitingRequests = 100_000,
            Runner = new ModelRunnerOptions { MaxBatchTokens = 4096, MaxLogitRows = maxBatch, MaxLoraRank = 64, MaxResidentAdapters = 512 },
            Scheduler = new() { MaxBatchTokens = 4096, MaxBatchSequences = maxBatch },
        };
        string outDir = line.Get("out", Path.Combine("out", "table"));
        Directory.CreateDirectory(outDir);
        await using var engine = await LlmEngine.StartAsync(model.Source, options, new Progress<string>(m => stderr.WriteLine($"[load] {m}"))).ConfigureAwait(false);
        var target = new EngineTarget(engine, model.Name);
        await target.WarmUpAsync().ConfigureAwait(false);

        var rows = new List<Dictionary<string, object?>>();
        string[] targets = ["q_proj", "k_proj", "v_proj", "o_proj"];
        var templates = new Dictionary<int, LoraAdapter>();
        foreach (string setting in line.Get("settings", "S1,S2").Split(','))
        {
            foreach (int n in line.Get("adapters", "5,100,1000,2000").Split(',').Select(int.Parse))
            {
                var spec = WorkloadSettings.ByName(setting) with
                {
                    NumAdapters = n,
                    RequestRate = line.GetDouble("rate", 2),
                    Cv = line.GetDouble("cv", 1),
                    Alpha = line.GetDouble("alpha", 1),
                    Duration = line.GetDouble("duration", 60),
                    NumRequests = null,
                    InputRange = TokenRange.Parse(line.Get("input", "8:512")),
                    OutputRange = TokenRange.Parse(line.Get("output", "8:512")),
                    Seed = (ulong)line.GetInt("seed", 42),
                };
                var adapters = WorkloadGenerator.Adapters(spec);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                foreach (var a in adapters)
                {
                    if (!templates.TryGetValue(a.Rank, out var template))
                        templates[a.Rank] = template = LoraAdapter.Synthetic(engine.Config, $"rank-{a.Rank}", a.Rank, targets, seed: a.Rank);
                    await engine.RegisterAdapterAsync(template.WithId(a.Id)).ConfigureAwait(false);
                }
                stderr.WriteLine($"[table] {setting} n={n}: {adapters.Count} adapters registered in {clock.Elapsed.TotalSeconds:F1} s");
                clock.Restart();
                spec = spec.FitTo(engine.Config.MaxPositionEmbeddings, out _);
                var trace = WorkloadGenerator.Generate(spec, engine.Config.VocabSize);
                var result = await new TraceReplayer(target, new ReplayOptions { OnProgress = p => stderr.WriteLine(p) })
                    .RunAsync(spec, trace).ConfigureAwait(false);
                var r = result.Report;
                var row = new Dictionary<string, object?>
                {
                    ["setting"] = setting, ["adapters"] = n, ["rate"] = spec.RequestRate, ["requests"] = r.NumRequests, ["failed"] = r.Failed,
                    ["throughput_req_s"] = r.ThroughputRequestsPerSecond, ["throughput_tok_s"] = r.ThroughputOutputTokensPerSecond,
                    ["avg_latency_s"] = r.AverageLatencySeconds, ["first_token_mean_s"] = r.FirstTokenLatency?.Mean,
                    ["first_token_p99_s"] = r.FirstTokenLatency?.P99, ["slo_attainment"] = r.SloAttainment,
                };
                rows.Add(row);
                stderr.WriteLine($"[table] replayed in {clock.Elapsed.TotalSeconds:F1} s: " + JsonSerializer.Serialize(row));
                clock.Restart();
                File.WriteAllText(Path.Combine(outDir, "table.json"), JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
                foreach (var a in adapters)
                    await engine.UnregisterAdapterAsync(a.Id).ConfigureAwait(false);
                // The packed host copies (pinned) of thousands of adapters: return them before the next run.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                stderr.WriteLine($"[table] {setting} n={n}: adapters unregistered in {clock.Elapsed.TotalSeconds:F1} s");
            }
        }
        stdout.WriteLine("| setting | n | req/s | tok/s | avg latency s | first token mean s | SLO (6 s) |");
        stdout.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row["setting"]} | {row["adapters"]} | {row["throughput_req_s"]:F2} | {row["throughput_tok_s"]:F0} | {row["avg_latency_s"]:F2} | {row["first_token_mean_s"]:F2} | {row["slo_attainment"]:P0} |"));
        return 0;
    }
}
