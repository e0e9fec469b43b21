using System.Text.Json;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Model;
using SLoRA.Grid.Storage;

namespace SLoRA.Grid.Tests.Fixtures;

/// <summary>
/// Stands in for <see cref="PeftAdapterLoader"/> until the engine's PEFT reader (LoraAdapter.Load)
/// lands: reads rank and target modules from adapter_config.json and makes synthetic weights of
/// that shape. The folders the tests write are real PEFT folders, so switching to the real loader
/// is deleting the one line in <see cref="GridCluster"/> that registers this class.
/// </summary>
internal sealed class TestAdapterLoader : IAdapterLoader
{
    public LoraAdapter Load(string folder, LlamaConfig baseConfig, int maxRank, string adapterId)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, PeftFiles.Config)));
        int rank = config.RootElement.GetProperty("r").GetInt32();
        var modules = config.RootElement.GetProperty("target_modules").EnumerateArray().Select(m => m.GetString()!).ToList();
        if (!File.Exists(Path.Combine(folder, PeftFiles.Weights)))
            throw new InvalidDataException($"{folder} has no {PeftFiles.Weights}.");
        return LoraAdapter.Synthetic(baseConfig, adapterId, rank, modules, seed: adapterId.Length * 7919 + rank);
    }
}
