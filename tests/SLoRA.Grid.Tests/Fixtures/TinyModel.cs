using SLoRA.Engine.Execution;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Scheduling;
using SLoRA.Engine.Serving;
using SLoRA.Grid.Hosting;

namespace SLoRA.Grid.Tests.Fixtures;

/// <summary>The tiny synthetic Llama every grid test serves, on the CPU accelerator.</summary>
internal static class TinyModel
{
    public const int MaxLoraRank = 16;

    public static LlamaConfig Config { get; } = new()
    {
        HiddenSize = 64, IntermediateSize = 128, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 16,
        VocabSize = 512, MaxPositionEmbeddings = 256, RmsNormEps = 1e-5f, RopeTheta = 10000,
        BosTokenId = 1, EosTokenIds = [2],
    };

    public static EngineOptions Engine { get; } = new()
    {
        Accelerator = AcceleratorPreference.Cpu,
        Runner = new ModelRunnerOptions { NumPages = 512, MaxBatchTokens = 128, MaxLogitRows = 16, MaxLoraRank = MaxLoraRank },
        Scheduler = new SchedulerOptions { MaxBatchTokens = 128, MaxBatchSequences = 4 },
        MaxWaitingRequests = 64,
    };

    /// <summary>Points <paramref name="options"/> at the tiny model (engine on unless <paramref name="enabled"/> is false).</summary>
    public static void Apply(GpuEngineOptions options, bool enabled = true)
    {
        options.Enabled = enabled;
        options.SyntheticModel = Config;
        options.Engine = Engine;
        options.ModelName = "tiny";
    }

    /// <summary>A short token prompt inside the vocabulary.</summary>
    public static IReadOnlyList<int> Prompt { get; } = [1, 17, 42, 99, 7];
}
