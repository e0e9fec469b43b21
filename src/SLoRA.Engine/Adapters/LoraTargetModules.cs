namespace SLoRA.Engine.Adapters;

/// <summary>
/// The modules a PEFT config selects, in one of the three forms <c>target_modules</c> (and
/// <c>exclude_modules</c>) take: a list of names, a regular expression, or the wildcard
/// <c>"all-linear"</c>. Matched against module names such as
/// <c>model.layers.3.self_attn.q_proj</c> the way PEFT's <c>check_target_module_exists</c>
/// does: a listed name selects a module whose name equals it or ends with <c>"." + name</c>; an
/// expression must match the whole name (<c>re.fullmatch</c>); <c>"all-linear"</c> selects every
/// linear layer but the output layer, which for Llama is every projection.
/// </summary>
public sealed record LoraTargetModules
{
    /// <summary>The string PEFT reads as "every linear layer except lm_head" rather than as a regex.</summary>
    public const string AllLinearWildcard = "all-linear";

    private LoraTargetModules(IReadOnlyList<string> names, string? pattern, bool isAllLinear)
    {
        Names = names;
        Pattern = pattern;
        IsAllLinear = isAllLinear;
    }

    /// <summary>Every projection of every layer.</summary>
    public static LoraTargetModules AllLinear { get; } = new([], null, isAllLinear: true);

    /// <summary>The listed names, in file order (empty unless this is the list form).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The regular expression (null unless this is the expression form).</summary>
    public string? Pattern { get; }

    /// <summary>True for the <c>"all-linear"</c> wildcard.</summary>
    public bool IsAllLinear { get; }

    /// <summary>True for the list form, the only one <c>layers_to_transform</c> may narrow.</summary>
    public bool IsList => Pattern is null && !IsAllLinear;

    /// <summary>A list of module names, short (<c>q_proj</c>) or full (<c>model.layers.0.self_attn.q_proj</c>).</summary>
    public static LoraTargetModules FromNames(IEnumerable<string> names) => new(Array.AsReadOnly(names.ToArray()), null, isAllLinear: false);

    /// <summary>
    /// A regular expression matched against whole module names, or <see cref="AllLinear"/> when
    /// it is <c>"all-linear"</c>, as PEFT reads a string. Validity is checked by
    /// <see cref="LoraAdapterConfig.Validate"/>.
    /// </summary>
    public static LoraTargetModules FromPattern(string pattern) =>
        pattern == AllLinearWildcard ? AllLinear : new([], pattern, isAllLinear: false);

    /// <summary>True when the module is selected; <c>layers_to_transform</c> is applied by the config, not here.</summary>
    /// <exception cref="System.Text.RegularExpressions.RegexMatchTimeoutException">The expression backtracks catastrophically.</exception>
    public bool Matches(string moduleName) =>
        IsAllLinear || (Pattern is { } pattern ? PeftRegex.FullMatch(pattern, moduleName) : MatchesExactly(moduleName) || MatchesSuffix(moduleName));

    /// <summary>True when a listed name is the module's full name, which PEFT lets bypass <c>layers_to_transform</c>.</summary>
    public bool MatchesExactly(string moduleName) => Names.Contains(moduleName, StringComparer.Ordinal);

    /// <summary>True when a listed name is a dotted suffix of the module's name.</summary>
    public bool MatchesSuffix(string moduleName) => Names.Any(name => moduleName.EndsWith("." + name, StringComparison.Ordinal));

    /// <summary>Value equality, comparing the listed names in order (a record would compare the list by reference).</summary>
    public bool Equals(LoraTargetModules? other) =>
        other is not null && IsAllLinear == other.IsAllLinear && Pattern == other.Pattern && Names.SequenceEqual(other.Names);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(IsAllLinear, Pattern, Names.Count);

    /// <summary>The form PEFT writes: the wildcard or expression as a string, or the list in brackets.</summary>
    public override string ToString() =>
        IsAllLinear ? AllLinearWildcard : Pattern ?? "[" + string.Join(", ", Names) + "]";
}
