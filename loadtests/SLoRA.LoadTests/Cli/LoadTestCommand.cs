using System.Globalization;
using SLoRA.Engine.Execution;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Serving;
using SLoRA.LoadTests.Replay;
using SLoRA.LoadTests.Reporting;
using SLoRA.LoadTests.Workload;

namespace SLoRA.LoadTests.Cli;

/// <summary>The slora-loadtest commands: <c>replay</c> runs a trace against the engine, <c>trace</c> only writes it.</summary>
public static class LoadTestCommand
{
    /// <summary>How to call it.</summary>
    public const string Usage = """
        usage:
          slora-loadtest replay [workload options] [--model tiny|llama7b|<hf folder>] [--accelerator auto|cpu|cuda]
                                [--time-scale X] [--slo SECONDS] [--pages N] [--max-waiting N] [--model-seed S] [--out DIR]
          slora-loadtest replay [workload options] --target URL[,URL...] [--time-scale X] [--slo SECONDS] [--out DIR]
          slora-loadtest trace  [workload options] [--vocab N] [--out DIR]
        workload options (S-LoRA benchmarks/trace.py; defaults from --setting):
          --setting S1|S2      adapter ranks: S1 = {8}, S2 = {64,32,16,8} round-robin (default S1)
          --adapters N         number of adapters (100)
          --alpha A            popularity power law: adapter = floor(N * U^(1/A)); 1 = uniform (1)
          --rate R             mean arrival rate, requests/s (2)
          --cv C               coefficient of variation of Gamma inter-arrival times; 1 = Poisson (1)
          --duration SECONDS   floor(R * SECONDS) requests (60), or
          --requests N         exactly N requests
          --input LO:HI        prompt lengths, uniform in [LO, HI) (8:512)
          --output LO:HI       output lengths, uniform in [LO, HI) (8:512)
          --seed S             seed of every draw (42)
        replay options:
          --model M            tiny (synthetic, CPU-friendly), llama7b (synthetic Llama-2-7B shape) or a model folder (tiny)
          --time-scale X       send at arrival / X: 10 replays a 60 s trace in 6 s (1)
          --slo SECONDS        first-token objective for SLO attainment (6, as S-LoRA)
          --pages N            KV/adapter page pool size; 0 lets the engine size it (0)
          --max-waiting N      engine queue limit; beyond it requests fail as overloaded (1024)
          --model-seed S       seed of the synthetic weights (1)
          --target URLS        replay over HTTP against running silos instead (their facades, e.g.
                               http://127.0.0.1:8000): S-LoRA's /generate_stream, requests sent round-robin,
                               missing workload adapters uploaded first, pages read from each silo's /metrics
        replay writes report.json, requests.csv and replay.svg into --out (default out/loadtest);
        lengths that cannot fit the model's context or the page pool are clamped, and the report says so.
        """;

    private static readonly HashSet<string> WorkloadKeys = ["setting", "adapters", "alpha", "rate", "cv", "duration", "requests", "input", "output", "seed", "out"];
    private static readonly HashSet<string> ReplayKeys = [.. WorkloadKeys, "model", "accelerator", "time-scale", "slo", "pages", "max-waiting", "model-seed", "target"];
    private static readonly HashSet<string> TraceKeys = [.. WorkloadKeys, "vocab"];

    /// <summary>Runs the command in <paramref name="args"/>; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        stderr = TextWriter.Synchronized(stderr); // progress lines come from a pool thread
        try
        {
            string command = args.FirstOrDefault() ?? "";
            switch (command)
            {
                case "replay":
                    return await ReplayAsync(CommandLine.Parse(args, ReplayKeys), stdout, stderr).ConfigureAwait(false);
                case "trace":
                    return WriteTrace(CommandLine.Parse(args, TraceKeys), stdout);
                case "table":
                    return await TableCommand.RunAsync(CommandLine.Parse(args, TableCommand.Keys), stdout, stderr).ConfigureAwait(false);
                default:
                    stderr.WriteLine(Usage);
                    return command is "help" or "--help" or "-h" ? 0 : 2;
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            stderr.WriteLine($"error: {e.Message}");
            stderr.WriteLine(Usage);
            return 2;
        }
    }

    /// <summary>The workload the options describe, on top of the --setting preset.</summary>
    public static WorkloadSpec ParseSpec(CommandLine line)
    {
        var preset = WorkloadSettings.ByName(line.Get("setting", "S1"));
        if (line.Has("duration") && line.Has("requests"))
            throw new FormatException("give --duration or --requests, not both.");
        var spec = preset with
        {
            NumAdapters = line.GetInt("adapters", preset.NumAdapters),
            Alpha = line.GetDouble("alpha", preset.Alpha),
            RequestRate = line.GetDouble("rate", preset.RequestRate),
            Cv = line.GetDouble("cv", preset.Cv),
            InputRange = line.Get("input", preset.InputRange, TokenRange.Parse),
            OutputRange = line.Get("output", preset.OutputRange, TokenRange.Parse),
            Seed = line.Get("seed", preset.Seed, s => ulong.Parse(s, CultureInfo.InvariantCulture)),
            Duration = line.Has("requests") ? null : line.GetDouble("duration", preset.Duration ?? 60),
            NumRequests = line.Has("requests") ? line.GetInt("requests", 0) : null,
        };
        spec.Validate();
        return spec;
    }

    private static async Task<int> ReplayAsync(CommandLine line, TextWriter stdout, TextWriter stderr)
    {
        var spec = ParseSpec(line);
        var replayOptions = new ReplayOptions
        {
            TimeScale = line.GetDouble("time-scale", 1),
            SloSeconds = line.GetDouble("slo", 6),
            OnProgress = p => stderr.WriteLine(p),
        };
        replayOptions.Validate();
        string outDir = line.Get("out", Path.Combine("out", "loadtest"));
        if (line.Has("target"))
        {
            if (new[] { "model", "accelerator", "pages", "max-waiting", "model-seed" }.FirstOrDefault(line.Has) is { } engineOption)
                throw new FormatException($"--{engineOption} configures an in-process engine; with --target the silos' own settings apply.");
            var urls = line.Get("target", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri
                    : throw new FormatException($"--target: '{u}' is not an http(s) URL.")).ToList();
            stderr.WriteLine($"[connect] {string.Join(", ", urls)}");
            await using var http = await HttpTarget.ConnectAsync(urls).ConfigureAwait(false);
            await http.WarmUpAsync().ConfigureAwait(false);
            await http.RegisterAdaptersAsync(spec, stderr.WriteLine).ConfigureAwait(false);
            stderr.WriteLine($"[ready] {http.Description}");
            // Every request must fit the context and, alone, the smallest silo's pool beside its adapter.
            int adapterPages = WorkloadGenerator.Adapters(spec).Select(a => AdapterPages(http.Config, a.Rank)).DefaultIfEmpty(0).Max();
            int pool = http.SmallestPool();
            int limit = pool > 0 ? Math.Min(http.Config.MaxPositionEmbeddings, pool - adapterPages) : http.Config.MaxPositionEmbeddings;
            return await RunAsync(http, http.Config.VocabSize, limit, spec, replayOptions, outDir, stdout, stderr).ConfigureAwait(false);
        }

        var model = ModelChoice.Parse(line.Get("model", "tiny"), line.GetInt("model-seed", 1));
        var engineOptions = new EngineOptions
        {
            Accelerator = line.Get("accelerator", AcceleratorPreference.Auto, s => Enum.Parse<AcceleratorPreference>(s, ignoreCase: true)),
            Runner = new ModelRunnerOptions { NumPages = line.GetInt("pages", 0) },
            MaxWaitingRequests = line.GetInt("max-waiting", new EngineOptions().MaxWaitingRequests),
        };
        stderr.WriteLine($"[load] {model.Name}");
        await using var engine = await LlmEngine.StartAsync(model.Source, engineOptions, new Progress<string>(m => stderr.WriteLine($"[load] {m}")))
            .ConfigureAwait(false);
        var target = new EngineTarget(engine, model.Name);
        await target.WarmUpAsync().ConfigureAwait(false);
        await EngineTarget.RegisterAdaptersAsync(engine, spec, stderr.WriteLine).ConfigureAwait(false);
        stderr.WriteLine($"[ready] {target.Description}");

        // Every request must fit the context and, alone, the KV pool (the engine refuses it otherwise).
        int maxAdapterPages = WorkloadGenerator.Adapters(spec).Select(a => engine.AdapterPages(a.Id)).DefaultIfEmpty(0).Max();
        int engineLimit = Math.Min(engine.Config.MaxPositionEmbeddings, target.Snapshot().PagesTotal - maxAdapterPages);
        return await RunAsync(target, engine.Config.VocabSize, engineLimit, spec, replayOptions, outDir, stdout, stderr).ConfigureAwait(false);
    }

    /// <summary>Pages a synthetic adapter of <paramref name="rank"/> on q, k, v and o takes (the engine's packing: A and Bᵀ rows over 2·kv_dim-wide page slices).</summary>
    private static int AdapterPages(SLoRA.Engine.Model.LlamaConfig config, int rank)
    {
        long perLayer = 0;
        foreach (var module in (string[])["q_proj", "k_proj", "v_proj", "o_proj"])
        {
            var shape = SLoRA.Engine.Model.WeightNames.ProjectionShape(config, module);
            perLayer += (long)rank * (shape[0] + shape[1]) + 16; // each matrix starts 8-aligned
        }
        return (int)((perLayer + 2 * config.KvDim - 1) / (2 * config.KvDim));
    }

    /// <summary>Fits the workload to <paramref name="limit"/> tokens a request, replays it against <paramref name="target"/> and writes the report.</summary>
    private static async Task<int> RunAsync(ITraceTarget target, int vocabSize, int limit, WorkloadSpec spec, ReplayOptions replayOptions,
        string outDir, TextWriter stdout, TextWriter stderr)
    {
        var notes = new List<string>();
        spec = spec.FitTo(limit, out var note);
        if (note is not null)
        {
            notes.Add(note);
            stderr.WriteLine($"[workload] {note}");
        }
        var trace = WorkloadGenerator.Generate(spec, vocabSize);
        stderr.WriteLine($"[workload] {trace.Count} requests over {(trace.Count > 0 ? trace[^1].ArrivalSeconds : 0):F1} s: {spec}");

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        ReplayResult result;
        try
        {
            result = await new TraceReplayer(target, replayOptions).RunAsync(spec, trace, notes, cancel.Token).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        if (cancel.IsCancellationRequested)
            result = result with { Report = result.Report with { Notes = [.. result.Report.Notes, "the replay was cancelled (Ctrl+C) before the trace ended"] } };

        var files = ReplayFiles.Write(result, outDir);
        stdout.WriteLine(ReportSummary.Paragraph(result.Report));
        stdout.WriteLine($"Wrote {string.Join(", ", files)}.");
        return 0;
    }

    private static int WriteTrace(CommandLine line, TextWriter stdout)
    {
        var spec = ParseSpec(line);
        int vocab = line.GetInt("vocab", ModelChoice.Tiny.VocabSize);
        var trace = WorkloadGenerator.Generate(spec, vocab);
        string outDir = line.Get("out", Path.Combine("out", "loadtest"));
        Directory.CreateDirectory(outDir);
        string path = Path.Combine(outDir, "trace.csv");
        using (var writer = new StreamWriter(path))
        {
            writer.WriteLine("index,arrival_s,adapter_id,adapter_rank,input_length,output_length");
            foreach (var r in trace)
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Index},{r.ArrivalSeconds:F6},{r.AdapterId},{r.AdapterRank},{r.InputLength},{r.OutputLength}"));
        }
        stdout.WriteLine($"{trace.Count} requests ({spec}) written to {path}.");
        return 0;
    }
}
