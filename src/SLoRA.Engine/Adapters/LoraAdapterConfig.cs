using System.Globalization;
using System.Text.RegularExpressions;

namespace SLoRA.Engine.Adapters;

/// <summary>
/// The hyper-parameters of a PEFT LoRA adapter, as read from its <c>adapter_config.json</c>.
/// Only plain LoRA on Llama's linear projections is accepted; what would change the math in ways
/// the engine does not implement (DoRA, biases, aLoRA, QA-LoRA, modules_to_save, ...) is refused
/// when parsing, so an adapter never runs silently wrong. Which modules are targeted, with what
/// rank and scaling, follows PEFT's own rules (see <see cref="Targets"/> and <see cref="RankOf"/>).
/// </summary>
public sealed record LoraAdapterConfig
{
    private readonly IReadOnlyList<KeyValuePair<string, int>> _rankPattern = [];
    private readonly IReadOnlyList<KeyValuePair<string, double>> _alphaPattern = [];
    private readonly IReadOnlyList<int>? _layersToTransform;

    /// <summary><c>r</c>: the rank of every module that <see cref="RankPattern"/> does not override.</summary>
    public required int Rank { get; init; }

    /// <summary><c>lora_alpha</c>: the alpha of every module that <see cref="AlphaPattern"/> does not override.</summary>
    public required double Alpha { get; init; }

    /// <summary><c>target_modules</c>: the modules the adapter changes.</summary>
    public required LoraTargetModules TargetModules { get; init; }

    /// <summary><c>exclude_modules</c>: modules left alone even if targeted; null for none.</summary>
    public LoraTargetModules? ExcludeModules { get; init; }

    /// <summary><c>use_rslora</c>: scale by <c>alpha / sqrt(r)</c> instead of <c>alpha / r</c>.</summary>
    public bool UseRsLora { get; init; }

    /// <summary>
    /// <c>rank_pattern</c>, in file order: per-module ranks. A module takes the value of the first
    /// key that matches its name as PEFT's <c>get_pattern_key</c> does: the key, a regular
    /// expression, must match the whole name or a suffix after a dot, so a plain key such as
    /// <c>down_proj</c> matches every module named <c>down_proj</c>, and a full name matches only itself.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, int>> RankPattern
    {
        get => _rankPattern;
        init => _rankPattern = Array.AsReadOnly(value.ToArray());
    }

    /// <summary><c>alpha_pattern</c>, in file order: per-module alphas, matched like <see cref="RankPattern"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> AlphaPattern
    {
        get => _alphaPattern;
        init => _alphaPattern = Array.AsReadOnly(value.ToArray());
    }

    /// <summary>
    /// <c>layers_to_transform</c>: the only layers that <see cref="TargetModules"/> names apply to;
    /// null for all layers. PEFT writes it as an int or a list; an empty list means all layers.
    /// </summary>
    public IReadOnlyList<int>? LayersToTransform
    {
        get => _layersToTransform;
        init => _layersToTransform = value is null || value.Count == 0 ? null : Array.AsReadOnly(value.ToArray());
    }

    /// <summary><c>base_model_name_or_path</c>; informational only, since the weights' shapes are what is checked.</summary>
    public string? BaseModelNameOrPath { get; init; }

    /// <summary>Reads and validates an <c>adapter_config.json</c>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="adapterId">Named in errors; the folder's name when null.</param>
    /// <exception cref="AdapterLoadException">The file is missing, malformed or asks for something unsupported.</exception>
    public static LoraAdapterConfig Load(string path, string? adapterId = null)
    {
        adapterId ??= Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? path;
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AdapterLoadException(adapterId, path, $"cannot read adapter config: {ex.Message}", ex);
        }

        return Parse(json, adapterId, path);
    }

    /// <summary>Parses and validates config JSON; <paramref name="adapterId"/> and <paramref name="sourceName"/> are named in every error.</summary>
    /// <exception cref="AdapterLoadException">Malformed JSON, a missing or bad field, or an unsupported LoRA variant.</exception>
    public static LoraAdapterConfig Parse(string json, string adapterId, string sourceName) =>
        LoraAdapterConfigJson.Parse(json, adapterId, sourceName);

    /// <summary>Writes <c>adapter_config.json</c> text with PEFT's field names, which PEFT and <see cref="Parse"/> read back.</summary>
    public string ToJson() => LoraAdapterConfigJson.Write(this);

    /// <summary>
    /// Checks the values on their own, without a base model: ranks at least 1, finite alphas,
    /// target names that are Llama projections (not <c>embed_tokens</c> or <c>lm_head</c>),
    /// expressions that parse. <see cref="Parse"/> calls it; call it for configs built in code.
    /// </summary>
    /// <exception cref="AdapterLoadException">A value is out of range; the message names the field.</exception>
    public void Validate(string adapterId, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(TargetModules);
        string? problem;
        try
        {
            problem = LoraAdapterConfigRules.FirstProblem(this);
        }
        catch (RegexMatchTimeoutException ex)
        {
            throw new AdapterLoadException(adapterId, sourceName, $"matching pattern '{ex.Pattern}' took too long; simplify it.", ex);
        }

        if (problem is not null)
        {
            throw new AdapterLoadException(adapterId, sourceName, problem);
        }
    }

    /// <summary>
    /// True when the adapter changes <paramref name="module"/> of <paramref name="layer"/>, as
    /// PEFT's <c>check_target_module_exists</c> decides: excluded modules never; otherwise a module
    /// whose full name is listed; otherwise one matched by suffix, expression or wildcard, and (for
    /// a list only) in <see cref="LayersToTransform"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="module"/> is not a Llama projection.</exception>
    public bool Targets(int layer, string module)
    {
        var name = LoraWeightNames.ModuleName(layer, module);
        if (ExcludeModules?.Matches(name) == true)
        {
            return false;
        }

        if (!TargetModules.IsList || TargetModules.MatchesExactly(name))
        {
            return TargetModules.Matches(name);
        }

        return TargetModules.MatchesSuffix(name) && (LayersToTransform is null || LayersToTransform.Contains(layer));
    }

    /// <summary>The rank of a module: the first matching <see cref="RankPattern"/> value, else <see cref="Rank"/>.</summary>
    public int RankOf(int layer, string module) => Lookup(RankPattern, layer, module, Rank);

    /// <summary>Where a module's rank comes from, for messages: <c>field 'r'</c> or <c>rank_pattern['key']</c>.</summary>
    internal string RankSourceOf(int layer, string module)
    {
        var name = LoraWeightNames.ModuleName(layer, module);
        return RankPattern.FirstOrDefault(p => PeftRegex.SuffixMatch(p.Key, name)).Key is { } key ? $"rank_pattern['{key}']" : "field 'r'";
    }

    /// <summary>The alpha of a module: the first matching <see cref="AlphaPattern"/> value, else <see cref="Alpha"/>.</summary>
    public double AlphaOf(int layer, string module) => Lookup(AlphaPattern, layer, module, Alpha);

    /// <summary>The factor the LoRA output <c>B·A·x</c> is multiplied by: <c>alpha / r</c>, or <c>alpha / sqrt(r)</c> with rsLoRA.</summary>
    public float ScalingOf(int layer, string module)
    {
        // In double, then rounded once, as PEFT computes the Python float it multiplies by.
        double alpha = AlphaOf(layer, module), rank = RankOf(layer, module);
        return (float)(UseRsLora ? alpha / Math.Sqrt(rank) : alpha / rank);
    }

    /// <summary>Value equality, comparing lists and patterns in order (a record would compare them by reference).</summary>
    public bool Equals(LoraAdapterConfig? other) =>
        other is not null
        && Rank == other.Rank
        && Alpha.Equals(other.Alpha)
        && TargetModules.Equals(other.TargetModules)
        && Equals(ExcludeModules, other.ExcludeModules)
        && UseRsLora == other.UseRsLora
        && RankPattern.SequenceEqual(other.RankPattern)
        && AlphaPattern.SequenceEqual(other.AlphaPattern)
        && (LayersToTransform ?? []).SequenceEqual(other.LayersToTransform ?? [])
        && BaseModelNameOrPath == other.BaseModelNameOrPath;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Rank, Alpha, TargetModules, UseRsLora, RankPattern.Count, AlphaPattern.Count);

    /// <summary>One line for logs, in adapter_config.json's field names.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"lora r={Rank} lora_alpha={Alpha} target_modules={TargetModules} use_rslora={(UseRsLora ? "true" : "false")}") +
        (RankPattern.Count > 0 ? " rank_pattern={" + string.Join(", ", RankPattern.Select(p => $"{p.Key}: {p.Value}")) + "}" : "") +
        (AlphaPattern.Count > 0 ? " alpha_pattern={" + string.Join(", ", AlphaPattern.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}: {p.Value}"))) + "}" : "") +
        (LayersToTransform is { } layers ? " layers_to_transform=[" + string.Join(", ", layers) + "]" : "") +
        (ExcludeModules is { } exclude ? $" exclude_modules={exclude}" : "");

    private static T Lookup<T>(IReadOnlyList<KeyValuePair<string, T>> pattern, int layer, string module, T fallback)
    {
        var name = LoraWeightNames.ModuleName(layer, module);
        foreach (var (key, value) in pattern)
        {
            if (PeftRegex.SuffixMatch(key, name))
            {
                return value;
            }
        }

        return fallback;
    }
}
