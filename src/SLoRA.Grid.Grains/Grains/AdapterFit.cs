using SLoRA.Engine.Adapters;
using SLoRA.Engine.Model;

namespace SLoRA.Grid.Grains;

/// <summary>Whether an adapter fits a base model and a rank limit: the checks the engine applies when it registers one.</summary>
internal static class AdapterFit
{
    /// <summary>Why <paramref name="adapter"/> does not fit, or null when it does.</summary>
    public static string? Problem(LoraAdapter adapter, LlamaConfig baseConfig, int maxRank)
    {
        if (adapter.Modules.Count == 0)
            return "it adapts no module.";
        foreach (var m in adapter.Modules)
        {
            if (!WeightNames.ProjectionModules.Contains(m.Module))
                return $"'{m.Module}' is not a Llama linear module.";
            if (m.Rank < 1 || m.Rank > maxRank)
                return $"{m.Module} in layer {m.Layer} has rank {m.Rank}; this grid serves ranks 1 to {maxRank}.";
            var shape = WeightNames.ProjectionShape(baseConfig, m.Module);
            if (m.Layer < 0 || m.Layer >= baseConfig.NumLayers || m.OutFeatures != shape[0] || m.InFeatures != shape[1])
                return $"{m.Module} in layer {m.Layer} is [{m.OutFeatures}, {m.InFeatures}]; the base model's is [{shape[0]}, {shape[1]}] with {baseConfig.NumLayers} layers.";
        }
        return null;
    }
}
