using System.Text;
using System.Text.Json;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Model;

namespace SLoRA.Grid.Storage;

/// <summary>
/// Dummy weights for benchmarks and tests, as S-LoRA's own benchmarks use: rank and target modules
/// come from the folder's adapter_config.json, the weights from a seed derived from the adapter id,
/// so a fleet of thousands of adapters needs no weight files at all.
/// </summary>
public sealed class SyntheticAdapterLoader : IAdapterLoader
{
    /// <inheritdoc/>
    public LoraAdapter Load(string folder, LlamaConfig baseConfig, int maxRank, string adapterId)
    {
        var path = Path.Combine(folder, PeftFiles.Config);
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var root = config.RootElement;
        if (!root.TryGetProperty("r", out var r) || r.ValueKind != JsonValueKind.Number || r.GetInt32() < 1)
            throw new InvalidDataException($"{path}: \"r\" must be a positive integer.");
        if (!root.TryGetProperty("target_modules", out var targets) || targets.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: \"target_modules\" must be a list of module names.");
        var modules = targets.EnumerateArray().Select(m => m.GetString() ?? "").ToList();
        foreach (var module in modules)
        {
            if (!WeightNames.ProjectionModules.Contains(module))
                throw new InvalidDataException($"{path}: '{module}' is not a Llama linear module.");
        }
        return LoraAdapter.Synthetic(baseConfig, adapterId, r.GetInt32(), modules, Seed(adapterId));
    }

    private static int Seed(string adapterId)
    {
        // FNV-1a: stable across processes, unlike string.GetHashCode.
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(adapterId))
            hash = (hash ^ b) * 16777619;
        return (int)(hash & int.MaxValue);
    }
}
