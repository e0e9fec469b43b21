using SLoRA.Engine.Model;
using SLoRA.Engine.Tokenization;

namespace SLoRA.Engine.Serving;

/// <summary>Where the engine's base model comes from.</summary>
public abstract record ModelSource
{
    /// <summary>A Hugging Face Llama folder (config.json, *.safetensors, tokenizer files).</summary>
    public static ModelSource Folder(string path) => new FolderSource(path);

    /// <summary>Deterministic synthetic weights of the given shape, with the GPT-2 tokenizer.</summary>
    public static ModelSource Synthetic(LlamaConfig config, int seed = 0) => new SyntheticSource(config, seed);

    /// <summary>Loads the weights and the tokenizer (null when the folder has none).</summary>
    internal abstract (ModelWeights Weights, TextTokenizer? Tokenizer) Load(IProgress<string>? progress);

    /// <summary>Whether a model folder carries tokenizer files (a folder without them takes token-id prompts only).</summary>
    public static bool HasTokenizerFiles(string folder) =>
        File.Exists(System.IO.Path.Combine(folder, "tokenizer.json")) || File.Exists(System.IO.Path.Combine(folder, "tokenizer.model"))
        || Directory.EnumerateFiles(folder, "*.tiktoken").Any();

    private sealed record FolderSource(string Path) : ModelSource
    {
        internal override (ModelWeights, TextTokenizer?) Load(IProgress<string>? progress)
        {
            var config = LlamaConfig.Load(System.IO.Path.Combine(Path, "config.json"));
            var weights = ModelWeights.Load(Path, config, progress is null ? null
                : new Progress<ModelLoadProgress>(p => progress.Report($"loading weights: {p.TensorsDone}/{p.TensorsTotal} tensors, {p.BytesDone >> 20}/{p.BytesTotal >> 20} MiB")));
            TextTokenizer? tokenizer = HasTokenizerFiles(Path) ? TextTokenizer.FromModelFolder(Path) : null;
            return (weights, tokenizer);
        }
    }

    private sealed record SyntheticSource(LlamaConfig Config, int Seed) : ModelSource
    {
        internal override (ModelWeights, TextTokenizer?) Load(IProgress<string>? progress)
        {
            progress?.Report($"making synthetic weights (seed {Seed})");
            return (ModelWeights.Synthetic(Config, Seed), TextTokenizer.Gpt2());
        }
    }
}
