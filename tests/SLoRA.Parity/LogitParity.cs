using SLoRA.Engine.Execution;
using SLoRA.Engine.Memory;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;

namespace SLoRA.Parity;

/// <summary>Result of comparing logits with the reference.</summary>
/// <param name="Model">Fixture model.</param>
/// <param name="MaxAbsDiff">Largest |ours - HF fp32| over all sampled positions and the vocabulary.</param>
/// <param name="Tolerance">Twice HF's own fp16-vs-fp32 gap on the same inputs.</param>
/// <param name="Positions">Positions compared.</param>
/// <param name="PagesLeaked">Pages not returned to the pool afterwards.</param>
public sealed record LogitParityResult(string Model, double MaxAbsDiff, double Tolerance, int Positions, int PagesLeaked)
{
    public bool Passed => MaxAbsDiff <= Tolerance && PagesLeaked == 0;
}

/// <summary>
/// Runs each reference prompt as one prefill and its greedy continuation token by token through
/// the KV cache (teacher-forced), and compares the logits at the reference's sampled positions.
/// </summary>
public static class LogitParity
{
    /// <summary>The runner sizes the reference prompts need.</summary>
    public static ModelRunnerOptions RunnerOptions => new() { MaxBatchTokens = 128, MaxLogitRows = 128, NumPages = 256 };

    /// <param name="model">Fixture model.</param>
    /// <param name="accelerator">Accelerator to run on.</param>
    /// <param name="runnerOptions">Runner options (the kernel variant, say); <see cref="RunnerOptions"/> when null.</param>
    /// <param name="cpuWarpSize">Threads per warp of the CPU accelerator.</param>
    /// <param name="maxPrompts">Compare the first reference prompts only (slow kernel variants on the CPU).</param>
    public static LogitParityResult Run(string model, AcceleratorPreference accelerator,
        ModelRunnerOptions? runnerOptions = null, int cpuWarpSize = 2, int maxPrompts = int.MaxValue)
    {
        var reference = Fixtures.LoadReference(model);
        var config = LlamaConfig.Load(Path.Combine(Fixtures.Model(model), "config.json"));
        var weights = ModelWeights.Load(Fixtures.Model(model), config);
        using var device = ComputeDevice.Create(accelerator, cpuWarpSize: cpuWarpSize);
        using var runner = new ModelRunner(device, weights, runnerOptions ?? RunnerOptions);
        var batch = new ForwardBatch();
        double worst = 0;
        int compared = 0;
        foreach (var row in reference.Base.Take(maxPrompts))
        {
            var all = row.Prompt.Concat(row.Greedy).ToArray();
            var pages = new int[all.Length];
            if (!runner.Pages.TryAllocate(PageKind.KvCache, pages))
                throw new InvalidOperationException("The pool is too small for the reference prompts.");
            var logits = new float[all.Length * config.VocabSize];

            batch.Clear();
            batch.AddSequence(pages.AsSpan(0, row.Prompt.Length), row.Prompt, LogitSelection.All);
            runner.Forward(batch, logits);
            for (int t = row.Prompt.Length; t < all.Length; t++)
            {
                batch.Clear();
                batch.AddSequence(pages.AsSpan(0, t + 1), all.AsSpan(t, 1));
                runner.Forward(batch, logits.AsSpan(t * config.VocabSize));
            }

            for (int i = 0; i < row.LogitPositions.Length; i++)
            {
                var ours = logits.AsSpan(row.LogitPositions[i] * config.VocabSize, config.VocabSize);
                for (int v = 0; v < config.VocabSize; v++)
                    worst = Math.Max(worst, Math.Abs(ours[v] - row.Logits[i][v]));
                compared++;
            }
            runner.Pages.Free(pages);
        }
        // Tolerance: twice the gap between Hugging Face's own fp16 forward (CUDA) and its fp32
        // reference on the same inputs, i.e. the error that fp16 storage brings anyway.
        double tolerance = 2 * (reference.HfFp16MaxAbsLogitGap ?? 0.02);
        return new LogitParityResult(model, worst, tolerance, compared, runner.Pages.Capacity - runner.Pages.FreeCount);
    }
}
