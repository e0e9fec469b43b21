namespace SLoRA.Engine.Model;

/// <summary>File names inside a Hugging Face model folder.</summary>
public static class ModelFiles
{
    /// <summary>The model's <see cref="LlamaConfig"/>.</summary>
    public const string Config = "config.json";

    /// <summary>All weights in one file.</summary>
    public const string Weights = "model.safetensors";

    /// <summary>Index of a sharded checkpoint: <c>weight_map</c> from tensor name to shard file. Preferred when present.</summary>
    public const string WeightsIndex = "model.safetensors.index.json";
}
