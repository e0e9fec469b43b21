using SLoRA.Engine.Execution;
using SLoRA.Engine.Memory;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Tests.Support;
using Xunit.Abstractions;

namespace SLoRA.Engine.Tests.Parity;

/// <summary>
/// The forward pass against Hugging Face: logits at the reference's sampled positions, with the
/// prompt run as one prefill and the continuation decoded token by token through the KV cache.
/// </summary>
public sealed class ForwardParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("llama-gqa")]
    [InlineData("llama-tied")]
    public void Logits_match_transformers_within_fp16_tolerance(string model)
    {
        var reference = Fixtures.LoadReference(model);
        var config = LlamaConfig.Load(Path.Combine(Fixtures.Model(model), "config.json"));
        var weights = ModelWeights.Load(Fixtures.Model(model), config);
        using var device = ComputeDevice.Create(AcceleratorPreference.Cpu);
        using var runner = new ModelRunner(device, weights, new ModelRunnerOptions { MaxBatchTokens = 128, MaxLogitRows = 128, NumPages = 256 });
        var batch = new ForwardBatch();
        double worst = 0;
        foreach (var row in reference.Base)
        {
            var all = row.Prompt.Concat(row.Greedy).ToArray();
            var pages = new int[all.Length];
            Assert.True(runner.Pages.TryAllocate(PageKind.KvCache, pages));
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
                int p = row.LogitPositions[i];
                var ours = logits.AsSpan(p * config.VocabSize, config.VocabSize);
                for (int v = 0; v < config.VocabSize; v++)
                {
                    double diff = Math.Abs(ours[v] - row.Logits[i][v]);
                    worst = Math.Max(worst, diff);
                }
            }
            runner.Pages.Free(pages);
        }
        output.WriteLine($"{model}: max |logit - HF fp32| = {worst:F5} (HF's own fp16 gap {reference.HfFp16MaxAbsLogitGap})");
        // Tolerance: twice the gap between Hugging Face's own fp16 forward (CUDA) and its fp32
        // reference on the same inputs, i.e. the error that fp16 storage brings anyway.
        double tolerance = 2 * (reference.HfFp16MaxAbsLogitGap ?? 0.02);
        Assert.True(worst <= tolerance, $"max abs logit difference {worst} > tolerance {tolerance}");
        Assert.Equal(runner.Pages.Capacity, runner.Pages.FreeCount);
    }
}
