namespace SLoRA.Engine.Adapters;

/// <summary>File names inside a PEFT adapter folder, as <c>save_pretrained</c> writes them.</summary>
public static class LoraAdapterFiles
{
    /// <summary>The <see cref="LoraAdapterConfig"/>.</summary>
    public const string Config = "adapter_config.json";

    /// <summary>The LoRA A and B matrices.</summary>
    public const string Weights = "adapter_model.safetensors";

    /// <summary>The legacy pickled weights, which are refused: unpickling can run arbitrary code.</summary>
    public const string PickledWeights = "adapter_model.bin";
}
