using SLoRA.Engine.Adapters;
using SLoRA.Engine.Model;

namespace SLoRA.Grid.Storage;

/// <summary>Turns a materialized PEFT folder into host-memory weights for the engine.</summary>
public interface IAdapterLoader
{
    /// <summary>
    /// Loads the adapter in <paramref name="folder"/> for <paramref name="baseConfig"/>; throws
    /// when the files are malformed or do not fit the model (rank above <paramref name="maxRank"/>,
    /// shapes of another model).
    /// </summary>
    LoraAdapter Load(string folder, LlamaConfig baseConfig, int maxRank, string adapterId);
}

/// <summary>The production loader: the engine's PEFT reader.</summary>
public sealed class PeftAdapterLoader : IAdapterLoader
{
    /// <inheritdoc/>
    public LoraAdapter Load(string folder, LlamaConfig baseConfig, int maxRank, string adapterId) =>
        LoraAdapter.Load(folder, baseConfig, maxRank, adapterId);
}
