using SLoRA.Engine.Model;
using SLoRA.Engine.Serving;

namespace SLoRA.LoadTests.Cli;

/// <summary>The --model values: "tiny", "llama7b" (both synthetic weights) or a Hugging Face Llama folder.</summary>
public sealed record ModelChoice(string Name, ModelSource Source)
{
    /// <summary>
    /// A Llama small enough to replay S-LoRA's [8, 512) lengths on the CPU accelerator in CI:
    /// 1100 positions fit the longest prompt plus the longest output.
    /// </summary>
    public static LlamaConfig Tiny { get; } = new()
    {
        HiddenSize = 64, IntermediateSize = 128, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 16,
        VocabSize = 512, MaxPositionEmbeddings = 1100, RmsNormEps = 1e-5f, RopeTheta = 10000, BosTokenId = 1, EosTokenIds = [2],
    };

    /// <summary>The model named by <paramref name="value"/>; synthetic weights use <paramref name="seed"/>.</summary>
    public static ModelChoice Parse(string value, int seed = 1) => value.ToLowerInvariant() switch
    {
        "tiny" => new ModelChoice("tiny (synthetic)", ModelSource.Synthetic(Tiny, seed)),
        "llama7b" => new ModelChoice("llama-7b (synthetic)", ModelSource.Synthetic(LlamaConfig.Llama7B, seed)),
        _ when Directory.Exists(value) => new ModelChoice(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(value))), ModelSource.Folder(value)),
        _ => throw new FormatException($"--model {value}: expected tiny, llama7b or a Hugging Face model folder."),
    };
}
