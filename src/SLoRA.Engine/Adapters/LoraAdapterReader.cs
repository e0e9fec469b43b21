using System.Runtime.ExceptionServices;
using System.Text.RegularExpressions;
using SLoRA.Engine.Model;

namespace SLoRA.Engine.Adapters;

/// <summary>
/// Reads a PEFT adapter folder and checks it against the base model before any weight is read:
/// the config decides which (layer, module) pairs are adapted and with what rank; the file must
/// hold exactly their A and B factors, in the shapes the base model's projections imply.
/// </summary>
internal static class LoraAdapterReader
{
    /// <summary>One adapted projection: where it is, and the shapes its factors must have.</summary>
    private sealed record Target(int Layer, string Module, int Rank, float Scaling, int In, int Out)
    {
        public int[] AShape => [Rank, In];

        public int[] BShape => [Out, Rank];
    }

    public static LoraAdapter Read(string folder, LlamaConfig baseConfig, int maxRank, string? id)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRank, 1);
        id ??= Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        baseConfig.Validate("base model config");
        if (!Directory.Exists(folder))
        {
            throw new AdapterLoadException(id, folder, "adapter folder does not exist.");
        }

        var configPath = Path.Combine(folder, LoraAdapterFiles.Config);
        if (!File.Exists(configPath))
        {
            throw new AdapterLoadException(id, configPath, $"is missing; a PEFT adapter folder has {LoraAdapterFiles.Config} and {LoraAdapterFiles.Weights}.");
        }

        var config = LoraAdapterConfig.Load(configPath, id);
        var weightsPath = WeightsPath(folder, id);
        var targets = Plan(config, baseConfig, maxRank, id, configPath);

        using var file = Open(weightsPath, id);
        CheckNames(file, targets, baseConfig, id);
        var infos = targets.Select(t => (A: Check(file, t, isA: true, id), B: Check(file, t, isA: false, id))).ToArray();

        var modules = new LoraModuleWeights[targets.Count];
        // Converting F32 costs more than reading, and positional reads let threads share the handle.
        RethrowFirst(() => Parallel.For(0, targets.Count, i =>
        {
            var t = targets[i];
            modules[i] = new LoraModuleWeights(
                t.Layer, t.Module, t.Rank, t.Scaling, t.In, t.Out, ReadFinite(file, infos[i].A, id), ReadFinite(file, infos[i].B, id));
        }));

        return new LoraAdapter(id, config, baseConfig, modules);
    }

    private static string WeightsPath(string folder, string id)
    {
        var path = Path.Combine(folder, LoraAdapterFiles.Weights);
        if (File.Exists(path))
        {
            return path;
        }

        var pickled = Path.Combine(folder, LoraAdapterFiles.PickledWeights);
        throw File.Exists(pickled)
            ? new AdapterLoadException(id, pickled, $"pickled PyTorch weights are not supported (unpickling can run code); re-save the adapter with safe_serialization=True to get {LoraAdapterFiles.Weights}.")
            : new AdapterLoadException(id, path, "is missing.");
    }

    /// <summary>Every (layer, module) the config adapts on this base model, in layer then q, k, v, o, gate, up, down order.</summary>
    private static List<Target> Plan(LoraAdapterConfig config, LlamaConfig baseConfig, int maxRank, string id, string configPath)
    {
        AdapterLoadException Refuse(string problem) => new(id, configPath, problem);
        var moduleNames = Enumerable.Range(0, baseConfig.NumLayers)
            .SelectMany(layer => WeightNames.ProjectionModules.Select(module => LoraWeightNames.ModuleName(layer, module)))
            .ToArray();
        if (config.TargetModules.Names.FirstOrDefault(name => !moduleNames.Any(m => m == name || m.EndsWith("." + name, StringComparison.Ordinal))) is { } stray)
        {
            throw Refuse($"field 'target_modules' names '{stray}', which matches no module of the base model ({baseConfig.NumLayers} layers); was the adapter made for another base model?");
        }

        foreach (var layer in config.LayersToTransform ?? [])
        {
            if (layer >= baseConfig.NumLayers)
            {
                throw Refuse($"field 'layers_to_transform' names layer {layer}, but the base model has {baseConfig.NumLayers} layers.");
            }
        }

        var targets = new List<Target>();
        try
        {
            for (var layer = 0; layer < baseConfig.NumLayers; layer++)
            {
                foreach (var module in WeightNames.ProjectionModules.Where(m => config.Targets(layer, m)))
                {
                    var rank = config.RankOf(layer, module);
                    if (rank > maxRank)
                    {
                        throw Refuse($"{LoraWeightNames.ModuleName(layer, module)} has rank {rank} (from {config.RankSourceOf(layer, module)}), above the maximum rank {maxRank} this engine was started with.");
                    }

                    var shape = WeightNames.ProjectionShape(baseConfig, module);
                    targets.Add(new Target(layer, module, rank, config.ScalingOf(layer, module), In: shape[1], Out: shape[0]));
                }
            }
        }
        catch (RegexMatchTimeoutException ex)
        {
            throw Refuse($"matching the module patterns took too long (pattern '{ex.Pattern}'); simplify target_modules, rank_pattern or alpha_pattern.");
        }

        return targets.Count > 0
            ? targets
            : throw Refuse($"targets no module of the base model (target_modules {config.TargetModules}).");
    }

    private static SafetensorsFile Open(string path, string id)
    {
        try
        {
            return SafetensorsFile.Open(path);
        }
        catch (ModelLoadException ex)
        {
            throw new AdapterLoadException(id, path, ex.Message, ex);
        }
    }

    /// <summary>Refuses any tensor that is not the A or B of a targeted module, naming the first in sorted order.</summary>
    private static void CheckNames(SafetensorsFile file, List<Target> targets, LlamaConfig baseConfig, string id)
    {
        var targeted = targets.Select(t => (t.Layer, t.Module)).ToHashSet();
        foreach (var name in file.Tensors.Keys.Order(StringComparer.Ordinal))
        {
            if (!LoraWeightNames.TryParse(name, out var layer, out var module, out _))
            {
                throw new AdapterLoadException(id, file.Path, $"unexpected tensor '{name}': {LoraWeightNames.WhyUnexpected(name)}.");
            }

            if (layer >= baseConfig.NumLayers)
            {
                throw new AdapterLoadException(id, file.Path, $"tensor '{name}' is for layer {layer}, but the base model has {baseConfig.NumLayers} layers; was the adapter made for another base model?");
            }

            if (!targeted.Contains((layer, module)))
            {
                throw new AdapterLoadException(id, file.Path, $"tensor '{name}' is for {LoraWeightNames.ModuleName(layer, module)}, which {LoraAdapterFiles.Config} does not target.");
            }
        }
    }

    private static SafetensorsTensorInfo Check(SafetensorsFile file, Target target, bool isA, string id)
    {
        var name = isA ? LoraWeightNames.LoraA(target.Layer, target.Module) : LoraWeightNames.LoraB(target.Layer, target.Module);
        var shape = isA ? target.AShape : target.BShape;
        if (!file.Tensors.TryGetValue(name, out var info))
        {
            throw new AdapterLoadException(id, file.Path, $"tensor '{name}' (expected shape {Shapes.Format(shape)}) is missing, though {LoraAdapterFiles.Config} targets {LoraWeightNames.ModuleName(target.Layer, target.Module)}.");
        }

        if (!info.HasShape(shape))
        {
            var layout = isA ? "[rank, in_features]" : "[out_features, rank]";
            throw new AdapterLoadException(
                id,
                file.Path,
                $"tensor '{name}' has shape {Shapes.Format(info.Shape)}, expected {Shapes.Format(shape)} ({layout} for rank {target.Rank} on the base model's {target.Module} [{target.Out}, {target.In}]); was the adapter made for another base model?");
        }

        return info.DType.IsConvertibleToHalf()
            ? info
            : throw new AdapterLoadException(id, file.Path, $"tensor '{name}' has dtype {info.DType.ToHeaderName()}; LoRA factors must be F16, BF16, F32 or F64.");
    }

    /// <summary>Reads a factor as fp16; an inf or NaN (or an F32 value beyond fp16's range) would poison every output it touches.</summary>
    private static Half[] ReadFinite(SafetensorsFile file, SafetensorsTensorInfo info, string id)
    {
        Half[] data;
        try
        {
            data = file.ReadHalf(info.Name);
        }
        catch (ModelLoadException ex)
        {
            throw new AdapterLoadException(id, file.Path, ex.Message, ex);
        }

        var bad = Array.FindIndex(data, value => !Half.IsFinite(value));
        return bad < 0
            ? data
            : throw new AdapterLoadException(id, file.Path, $"tensor '{info.Name}' has a value that is not finite in fp16 ({data[bad]}) at element {bad}.");
    }

    /// <summary>Surfaces a failed read as its own exception rather than wrapped in an AggregateException.</summary>
    private static void RethrowFirst(Action action)
    {
        try
        {
            action();
        }
        catch (AggregateException ex)
        {
            ExceptionDispatchInfo.Capture(ex.Flatten().InnerExceptions[0]).Throw();
        }
    }
}
