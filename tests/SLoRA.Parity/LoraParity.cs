using SLoRA.Engine.Adapters;
using SLoRA.Engine.Generation;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Serving;

namespace SLoRA.Parity;

/// <summary>Result of the mixed-adapter batch check.</summary>
/// <param name="Model">Fixture model.</param>
/// <param name="Requests">Requests compared (every prompt × (base + each adapter)).</param>
/// <param name="Mismatches">Requests whose tokens differ from PEFT's for that adapter alone.</param>
/// <param name="MaxAdaptersInOneStep">Most distinct adapters seen in one step (proves the batch was mixed).</param>
/// <param name="FirstMismatch">The first difference, if any.</param>
/// <param name="PagesLeaked">KV pages not returned after all requests finished.</param>
/// <param name="Kernels">The kernels the engine chose (ModelRunner.KernelSummary).</param>
public sealed record LoraParityResult(string Model, int Requests, int Mismatches, int MaxAdaptersInOneStep, string? FirstMismatch, int PagesLeaked, string Kernels = "")
{
    public bool Passed => Mismatches == 0 && PagesLeaked == 0;
}

/// <summary>
/// Registers every fixture adapter of a model and submits every prompt for the base model and
/// for each adapter at once, so that one batch mixes adapters of different ranks and target
/// modules with base-model requests; each request must produce exactly the greedy tokens that
/// PEFT produced for that adapter alone.
/// </summary>
public static class LoraParity
{
    public static async Task<LoraParityResult> RunAsync(string model, AcceleratorPreference accelerator,
        SLoRA.Engine.Execution.KernelVariant kernels = SLoRA.Engine.Execution.KernelVariant.Auto, int maxPrompts = int.MaxValue, int cpuWarpSize = 2)
    {
        var reference = Fixtures.LoadReference(model);
        var options = new EngineOptions
        {
            Accelerator = accelerator,
            CpuWarpSize = cpuWarpSize,
            Runner = new() { MaxBatchTokens = 512, MaxLogitRows = 64, NumPages = 4096, MaxLoraRank = 16, Kernels = kernels },
            Scheduler = new() { MaxBatchTokens = 512, MaxBatchSequences = 64 },
        };
        await using var engine = await LlmEngine.StartAsync(ModelSource.Folder(Fixtures.Model(model)), options);
        foreach (var name in reference.Adapters.Keys)
            await engine.RegisterAdapterAsync(LoraAdapter.Load(Fixtures.Adapter(model, name), engine.Config, maxRank: 16, id: name));

        var sampling = SamplingParams.Greedy(reference.NewTokens) with { IgnoreEos = true };
        var jobs = new List<(string Adapter, int[] Expected, Task<int[]> Run)>();
        int maxAdapters = 0;
        for (int p = 0; p < Math.Min(maxPrompts, reference.Base.Length); p++)
        {
            var prompt = reference.Base[p].Prompt;
            jobs.Add(("base", reference.Base[p].Greedy, Collect(engine.Generate(new GenerationRequest { PromptTokens = prompt, Sampling = sampling }))));
            foreach (var (name, adapter) in reference.Adapters)
            {
                jobs.Add((name, adapter.Rows[p].Greedy,
                    Collect(engine.Generate(new GenerationRequest { PromptTokens = prompt, AdapterId = name, Sampling = sampling }))));
            }
        }
        while (!jobs.All(j => j.Run.IsCompleted))
        {
            maxAdapters = Math.Max(maxAdapters, engine.GetStats().LastBatchAdapters);
            await Task.Delay(1);
        }
        int mismatches = 0;
        string? first = null;
        foreach (var (adapter, expected, run) in jobs)
        {
            var tokens = await run;
            if (!tokens.SequenceEqual(expected))
            {
                mismatches++;
                first ??= $"{adapter}: expected [{string.Join(",", expected)}], got [{string.Join(",", tokens)}]";
            }
        }
        await Task.Delay(50);
        var stats = engine.GetStats();
        return new LoraParityResult(model, jobs.Count, mismatches, maxAdapters, first, stats.PagesKv, engine.Kernels);
    }

    private static async Task<int[]> Collect(IAsyncEnumerable<TokenChunk> stream)
    {
        var tokens = new List<int>();
        await foreach (var chunk in stream)
        {
            if (chunk.TokenId >= 0)
                tokens.Add(chunk.TokenId);
        }
        return [.. tokens];
    }
}
