using SLoRA.Engine.Model;

namespace SLoRA.Engine.Adapters;

/// <summary>
/// The host copy of one LoRA adapter in fp16: the A and B factors of every projection it adapts,
/// checked against the base model it will run on. Loaded from a PEFT folder or made
/// synthetically; the device copy (pages of the unified pool) is made from this.
/// </summary>
public sealed class LoraAdapter
{
    internal LoraAdapter(string id, LoraAdapterConfig config, LlamaConfig baseConfig, IEnumerable<LoraModuleWeights> modules)
    {
        Id = id;
        Config = config;
        BaseConfig = baseConfig;
        Modules = Array.AsReadOnly(modules.OrderBy(m => m.Layer).ThenBy(m => m.ModuleIndex).ToArray());
        MaxRank = Modules.Max(m => m.Rank);
        ParameterCount = Modules.Sum(m => m.ParameterCount);
    }

    /// <summary>The name requests use to pick this adapter (by default, its folder's name).</summary>
    public string Id { get; }

    /// <summary>The parsed <c>adapter_config.json</c>.</summary>
    public LoraAdapterConfig Config { get; }

    /// <summary>The base model the factor shapes were checked against.</summary>
    public LlamaConfig BaseConfig { get; }

    /// <summary>Every adapted projection, by layer and then q, k, v, o, gate, up, down.</summary>
    public IReadOnlyList<LoraModuleWeights> Modules { get; }

    /// <summary>The largest rank among <see cref="Modules"/>: what the adapter needs from the engine's rank limit.</summary>
    public int MaxRank { get; }

    /// <summary>Elements of all A and B factors.</summary>
    public long ParameterCount { get; }

    /// <summary>
    /// The same weights under another id, sharing the host arrays (benchmarks register thousands of
    /// synthetic adapters this way; the engine still treats each as its own adapter).
    /// </summary>
    public LoraAdapter WithId(string id) => new(id, Config, BaseConfig, Modules);

    /// <summary>Host bytes of all factors (fp16).</summary>
    public long Bytes => ParameterCount * sizeof(ushort);

    /// <summary>
    /// Loads a PEFT LoRA folder (<c>adapter_config.json</c> and <c>adapter_model.safetensors</c>,
    /// F16, BF16 or F32), converting to fp16. Everything is checked against
    /// <paramref name="baseConfig"/> before the weights are read: every tensor must be the A or B
    /// of a module the config targets, every targeted module must have both, each with the rank the
    /// config gives it (at most <paramref name="maxRank"/>) and the width of the base projection.
    /// </summary>
    /// <param name="folder">The adapter folder.</param>
    /// <param name="baseConfig">The base model the adapter will run on.</param>
    /// <param name="maxRank">The largest rank the engine serves; adapters above it are refused.</param>
    /// <param name="id">The adapter's name; the folder's name when null.</param>
    /// <exception cref="AdapterLoadException">A file is missing or malformed, the config is unsupported, or a tensor is unexpected, missing or mis-shaped.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRank"/> is below 1.</exception>
    public static LoraAdapter Load(string folder, LlamaConfig baseConfig, int maxRank, string? id = null) =>
        LoraAdapterReader.Read(folder, baseConfig, maxRank, id);

    /// <summary>
    /// Writes a PEFT folder that <see cref="Load"/> and PEFT's <c>PeftModel.from_pretrained</c>
    /// read back: <c>adapter_config.json</c> and an fp16 <c>adapter_model.safetensors</c>. Each
    /// module must be one the config targets, with the rank and scaling the config gives it, so
    /// that the folder loads back the same; that every targeted module is present is checked on load.
    /// </summary>
    /// <exception cref="ArgumentException">The config is invalid, or a module disagrees with it or is repeated.</exception>
    public static void Save(string folder, LoraAdapterConfig config, IEnumerable<LoraModuleWeights> modules)
    {
        try
        {
            config.Validate(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))), "config to save");
        }
        catch (AdapterLoadException ex)
        {
            throw new ArgumentException(ex.Message, nameof(config), ex);
        }

        var list = modules.OrderBy(m => m.Layer).ThenBy(m => m.ModuleIndex).ToList();
        var seen = new HashSet<(int, string)>();
        foreach (var m in list)
        {
            var problem =
                !seen.Add((m.Layer, m.Module)) ? "appears twice"
                : !config.Targets(m.Layer, m.Module) ? "is not targeted by the config"
                : m.Rank != config.RankOf(m.Layer, m.Module) ? $"has rank {m.Rank}, but the config gives it {config.RankOf(m.Layer, m.Module)}"
                : m.Scaling != config.ScalingOf(m.Layer, m.Module) ? $"has scaling {m.Scaling}, but the config gives it {config.ScalingOf(m.Layer, m.Module)}"
                : null;
            if (problem is not null)
            {
                throw new ArgumentException($"{LoraWeightNames.ModuleName(m.Layer, m.Module)} {problem}.", nameof(modules));
            }
        }

        Directory.CreateDirectory(folder);
        SafetensorsWriter.Write(
            Path.Combine(folder, LoraAdapterFiles.Weights),
            list.SelectMany(m => new (string, int[], ReadOnlyMemory<Half>)[]
            {
                (LoraWeightNames.LoraA(m.Layer, m.Module), [m.Rank, m.InFeatures], m.A),
                (LoraWeightNames.LoraB(m.Layer, m.Module), [m.OutFeatures, m.Rank], m.B),
            }),
            new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(Path.Combine(folder, LoraAdapterFiles.Config), config.ToJson());
    }

    /// <summary>
    /// Deterministic random factors for benchmarks: every layer's <paramref name="targetModules"/>
    /// at one rank, with <c>lora_alpha = 2 · rank</c> (scaling 2). A is uniform with std
    /// <c>1/sqrt(in)</c> and B with std <c>0.1/sqrt(rank)</c>, so for unit-scale inputs the LoRA
    /// term is about a fifth of the base projection's output: visible in the logits, never dominant.
    /// The same seed gives the same bits on any machine.
    /// </summary>
    /// <exception cref="ArgumentException">No target, or a name that is not a Llama projection.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> is below 1.</exception>
    public static LoraAdapter Synthetic(LlamaConfig baseConfig, string id, int rank, IReadOnlyList<string> targetModules, int seed)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        if (targetModules.Count == 0 || targetModules.FirstOrDefault(m => !WeightNames.ProjectionModules.Contains(m)) is { } bad)
        {
            throw new ArgumentException(
                $"Synthetic adapters target some of {string.Join(", ", WeightNames.ProjectionModules)}; got [{string.Join(", ", targetModules)}].",
                nameof(targetModules));
        }

        baseConfig.Validate("base model config");
        var config = new LoraAdapterConfig { Rank = rank, Alpha = 2 * rank, TargetModules = LoraTargetModules.FromNames(targetModules) };
        return new LoraAdapter(id, config, baseConfig, SyntheticLoraWeights.Generate(baseConfig, config, seed));
    }

    /// <summary>Writes this adapter as a PEFT folder; see <see cref="Save(string, LoraAdapterConfig, IEnumerable{LoraModuleWeights})"/>.</summary>
    public void Save(string folder) => Save(folder, Config, Modules);

    /// <summary>The module of <paramref name="layer"/> named <paramref name="module"/>; null when the adapter leaves it alone.</summary>
    public LoraModuleWeights? Find(int layer, string module) =>
        Modules.FirstOrDefault(m => m.Layer == layer && m.Module == module);

    /// <inheritdoc/>
    public override string ToString() => $"adapter '{Id}': {Modules.Count} modules, max rank {MaxRank}, {Bytes} bytes; {Config}";
}
