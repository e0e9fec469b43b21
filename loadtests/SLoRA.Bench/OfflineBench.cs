using System.Diagnostics;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Generation;
using SLoRA.Engine.Model;
using SLoRA.Engine.Serving;

namespace SLoRA.Bench;

/// <summary>
/// One row of the offline throughput benchmark: the median of <see cref="Repeats"/> runs with the
/// batch's adapters on the device (seconds, tokens/s, decode step), and the first run, which loads
/// every adapter of the batch from host memory (<see cref="ColdOutputTokensPerSecond"/>).
/// </summary>
public sealed record OfflineResult(string Mode, int Batch, int InputLength, int OutputLength, double Seconds,
    double OutputTokensPerSecond, long DecodeSteps, double DecodeStepMilliseconds, double RooflineStepMilliseconds, double RooflineFraction,
    int Repeats = 1, double ColdOutputTokensPerSecond = 0);

/// <summary>
/// Offline throughput (S-LoRA's and vLLM's "all requests at t = 0"): a batch of requests, each
/// with its own adapter (or all on the base model), input and output lengths fixed, output
/// tokens per second; and for the decode steps, the memory-bandwidth roofline: the bytes a step
/// must read (weights, the KV of every sequence, the A and B of every adapter in the batch) over
/// the measured bandwidth, against the measured step time.
/// </summary>
/// <remarks>
/// Each (mode, batch) runs once from cold (every adapter taken off the device first, so the run
/// loads its adapters from host memory: reported apart) and then <c>repeats</c> times warm; the
/// medians of the warm runs are the row's figures. Single sub-second runs moved by ±7% from run
/// to run on the H200 (batch 8), more than the difference being measured.
/// </remarks>
public static class OfflineBench
{
    public static async Task<IReadOnlyList<OfflineResult>> RunAsync(LlmEngine engine, int[] batches, int inputLength, int outputLength,
        int rank, string[] targets, double bandwidth, Action<string> log, int repeats = 3)
    {
        var config = engine.Config;
        int adapters = batches.Max();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < adapters; i++)
        {
            await engine.RegisterAdapterAsync(LoraAdapter.Synthetic(config, $"bench-{i}", rank, targets, seed: 1000 + i));
            if ((i + 1) % 32 == 0 || i + 1 == adapters)
                log($"offline: registered {i + 1}/{adapters} adapters ({clock.Elapsed.TotalSeconds:F0} s)");
        }
        double adapterBytes = 2.0 * config.NumLayers * rank * targets.Sum(t =>
        {
            var s = WeightNames.ProjectionShape(config, t);
            return (double)(s[0] + s[1]);
        });
        double weightBytes = 2.0 * (WeightNames.Expected(config).Sum(e => (double)e.Shape.Aggregate(1L, (a, b) => a * b))
            - (config.TieWordEmbeddings ? 0 : (double)config.VocabSize * config.HiddenSize)); // the embedding is gathered, not read whole
        double pageBytes = 2.0 * 2 * config.NumLayers * config.KvDim;

        var random = new Random(7);
        var results = new List<OfflineResult>();
        // Warm-up: compiles the kernels and touches every code path once.
        await RunBatch(engine, 2, 16, 4, null, random);
        foreach (int batch in batches)
        {
            foreach (var mode in new[] { "lora", "base" })
            {
                string? prefix = mode == "lora" ? "bench-" : null;
                await engine.EvictIdleAdaptersAsync();
                var coldBefore = engine.GetProfile();
                double coldSeconds = (await Measure(engine, batch, inputLength, outputLength, prefix, random)).Seconds;
                var profileBefore = engine.GetProfile();
                LogProfile(log, "first run", coldBefore, profileBefore, 1);
                var runs = new List<(double Seconds, long Steps, double StepSeconds, double Context)>();
                for (int rep = 0; rep < repeats; rep++)
                    runs.Add(await Measure(engine, batch, inputLength, outputLength, prefix, random));
                var median = runs.OrderBy(r => r.Seconds).ElementAt(runs.Count / 2);
                double stepSeconds = runs.Select(r => r.StepSeconds).OrderBy(v => v).ElementAt(runs.Count / 2);
                double bytes = weightBytes + median.Context * pageBytes + (mode == "lora" ? batch * adapterBytes : 0);
                double roofline = bytes / bandwidth;
                double tokens = batch * (double)outputLength;
                var r = new OfflineResult(mode, batch, inputLength, outputLength, median.Seconds, tokens / median.Seconds,
                    median.Steps, stepSeconds * 1e3, roofline * 1e3, roofline / stepSeconds, repeats, tokens / coldSeconds);
                results.Add(r);
                LogProfile(log, "warm run", profileBefore, engine.GetProfile(), repeats);
                log($"offline {mode,-4} batch {batch,3}: {r.OutputTokensPerSecond,8:F0} tok/s (median of {repeats}; {string.Join(" / ", runs.Select(x => (tokens / x.Seconds).ToString("F0")))}), "
                    + $"decode step {r.DecodeStepMilliseconds:F2} ms, roofline {r.RooflineStepMilliseconds:F2} ms ({100 * r.RooflineFraction:F0}%); "
                    + $"first run{(mode == "lora" ? ", loading its adapters," : "")} {r.ColdOutputTokensPerSecond:F0} tok/s");
            }
        }
        return results;
    }

    /// <summary>
    /// With profiling on: milliseconds per run between two profile snapshots, prefill steps,
    /// decode steps and the step loop's host work apart (the LoRA cost of a run is where these
    /// differ between "lora" and "base").
    /// </summary>
    private static void LogProfile(Action<string> log, string label, IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after,
        int runs)
    {
        foreach (var kind in new[] { "prefill ", "decode ", "host " })
        {
            var phases = after.Where(kv => kv.Key.StartsWith(kind, StringComparison.Ordinal))
                .Select(kv => (Name: kv.Key[kind.Length..], Ms: 1e3 * (kv.Value - before.GetValueOrDefault(kv.Key)) / runs))
                .Where(p => p.Ms > 0).OrderByDescending(p => p.Ms).ToList();
            if (phases.Count > 0)
                log($"  profile, {label}, {kind}({phases.Sum(p => p.Ms):F0} ms in all): " + string.Join(", ", phases.Select(p => $"{p.Name} {p.Ms:F1}")));
        }
    }

    /// <summary>One run of the batch: its wall time, decode steps, mean decode step and mean context per decode step.</summary>
    private static async Task<(double Seconds, long Steps, double StepSeconds, double Context)> Measure(LlmEngine engine, int batch, int inputLength,
        int outputLength, string? adapterPrefix, Random random)
    {
        var before = engine.GetStats();
        var watch = Stopwatch.StartNew();
        await RunBatch(engine, batch, inputLength, outputLength, adapterPrefix, random);
        double seconds = watch.Elapsed.TotalSeconds;
        var after = engine.GetStats();
        long steps = after.DecodeSteps - before.DecodeSteps;
        return (seconds, steps, (after.DecodeSeconds - before.DecodeSeconds) / Math.Max(1, steps),
            (after.DecodeContextTokens - before.DecodeContextTokens) / (double)Math.Max(1, steps));
    }

    private static async Task RunBatch(LlmEngine engine, int batch, int inputLength, int outputLength, string? adapterPrefix, Random random)
    {
        var sampling = SamplingParams.Greedy(outputLength) with { IgnoreEos = true };
        var runs = new List<Task>();
        for (int i = 0; i < batch; i++)
        {
            var prompt = Enumerable.Range(0, inputLength).Select(_ => random.Next(3, engine.Config.VocabSize)).ToArray();
            var request = new GenerationRequest { PromptTokens = prompt, AdapterId = adapterPrefix is null ? null : adapterPrefix + i, Sampling = sampling };
            runs.Add(Drain(engine.Generate(request)));
        }
        await Task.WhenAll(runs);
    }

    private static async Task Drain(IAsyncEnumerable<TokenChunk> stream)
    {
        await foreach (var _ in stream)
        {
        }
    }
}
