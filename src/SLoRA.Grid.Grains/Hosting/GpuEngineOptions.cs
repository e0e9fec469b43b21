using SLoRA.Engine.Execution;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Serving;

namespace SLoRA.Grid.Hosting;

/// <summary>The engine a silo runs: which model, on which device, with which buffer sizes.</summary>
public sealed class GpuEngineOptions
{
    /// <summary>False for a pure gateway silo: no engine, never chosen for adapters.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A Hugging Face Llama folder; null runs <see cref="SyntheticModel"/>.</summary>
    public string? ModelFolder { get; set; }

    /// <summary>The shape of the synthetic model used when <see cref="ModelFolder"/> is null.</summary>
    public LlamaConfig SyntheticModel { get; set; } = SmallDemoModel;

    /// <summary>Seed of the synthetic weights.</summary>
    public int SyntheticSeed { get; set; }

    /// <summary>Device, pool and scheduler settings.</summary>
    public EngineOptions Engine { get; set; } = new()
    {
        Accelerator = AcceleratorPreference.Auto,
        Runner = new ModelRunnerOptions { NumPages = 4096, MaxBatchTokens = 256, MaxLogitRows = 64, MaxLoraRank = 64 },
    };

    /// <summary>A name for the base model in status reports and logs.</summary>
    public string ModelName { get; set; } = "synthetic-llama";

    /// <summary>
    /// A small synthetic Llama with the GPT-2 vocabulary (so text prompts work), fast enough on
    /// the CPU accelerator for a demo silo.
    /// </summary>
    public static LlamaConfig SmallDemoModel { get; } = new()
    {
        HiddenSize = 64, IntermediateSize = 128, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 16,
        VocabSize = 50257, MaxPositionEmbeddings = 512, RmsNormEps = 1e-5f, RopeTheta = 10000,
        BosTokenId = 50256, EosTokenIds = [50256],
    };

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        if (!Enabled)
            return;
        if (ModelFolder is { } folder && !Directory.Exists(folder))
            throw new ArgumentException($"the model folder '{folder}' does not exist.", nameof(ModelFolder));
        if (ModelFolder is null)
            SyntheticModel.Validate("the synthetic model");
        Engine.Runner.Validate();
        Engine.Scheduler.Validate();
        if (Engine.MaxWaitingRequests < 1)
            throw new ArgumentOutOfRangeException(nameof(Engine.MaxWaitingRequests), Engine.MaxWaitingRequests, "must be at least 1");
    }
}
