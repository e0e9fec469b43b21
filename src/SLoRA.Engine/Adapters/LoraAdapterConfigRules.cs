using SLoRA.Engine.Model;

namespace SLoRA.Engine.Adapters;

/// <summary>
/// The checks a <see cref="LoraAdapterConfig"/> must pass on its own, without a base model. Each
/// returns the first problem as a sentence that names the field, or null; the caller adds the
/// adapter and the file.
/// </summary>
internal static class LoraAdapterConfigRules
{
    /// <summary>Module names that look like Llama's but that a LoRA here cannot target, and why.</summary>
    private static readonly (string Module, string Name, string Why)[] Refused =
    [
        ("embed_tokens", "model.embed_tokens", "embedding LoRA is not supported"),
        ("lm_head", "lm_head", "lm_head LoRA is not supported"),
    ];

    /// <exception cref="System.Text.RegularExpressions.RegexMatchTimeoutException">An expression backtracks catastrophically.</exception>
    public static string? FirstProblem(LoraAdapterConfig config) =>
        (config.Rank < 1 ? $"field 'r' must be at least 1, found {config.Rank}." : null)
        ?? (double.IsFinite(config.Alpha) ? null : $"field 'lora_alpha' must be a finite number, found {config.Alpha}.")
        ?? TargetProblem(config.TargetModules)
        ?? ExcludeProblem(config.ExcludeModules)
        ?? config.RankPattern.Select(p => KeyProblem("rank_pattern", p.Key) ?? (p.Value < 1 ? $"rank_pattern['{p.Key}'] must be at least 1, found {p.Value}." : null)).FirstOrDefault(p => p is not null)
        ?? config.AlphaPattern.Select(p => KeyProblem("alpha_pattern", p.Key) ?? (double.IsFinite(p.Value) ? null : $"alpha_pattern['{p.Key}'] must be a finite number, found {p.Value}.")).FirstOrDefault(p => p is not null)
        ?? LayersProblem(config);

    private static string? TargetProblem(LoraTargetModules targets)
    {
        if (targets.Pattern is { } pattern)
        {
            // A module PEFT adapts but the engine ignores would make outputs silently wrong.
            return RegexProblem("field 'target_modules'", pattern)
                ?? Refused.Where(r => PeftRegex.FullMatch(pattern, r.Name))
                    .Select(r => $"field 'target_modules' (\"{pattern}\") matches {r.Name}; {r.Why}.")
                    .FirstOrDefault();
        }

        if (targets.IsAllLinear)
        {
            return null;
        }

        if (targets.Names.Count == 0)
        {
            return "field 'target_modules' is empty, so the adapter targets no module.";
        }

        foreach (var name in targets.Names)
        {
            // A listed name matches by dotted suffix, so its last segment is the module it adapts.
            var module = name.Split('.')[^1];
            if (name.Length == 0 || !WeightNames.ProjectionModules.Contains(module))
            {
                return Refused.FirstOrDefault(r => r.Module == module) is { Why: { } why }
                    ? $"field 'target_modules' names '{name}'; {why}."
                    : $"field 'target_modules' names '{name}', which is not a Llama linear module ({string.Join(", ", WeightNames.ProjectionModules)}).";
            }
        }

        return null;
    }

    private static string? ExcludeProblem(LoraTargetModules? exclude) =>
        exclude is null ? null
        : exclude.IsAllLinear ? "field 'exclude_modules' is \"all-linear\", which would exclude every module."
        : exclude.Pattern is { } pattern ? RegexProblem("field 'exclude_modules'", pattern)
        : exclude.Names.Any(n => n.Length == 0) ? "field 'exclude_modules' has an empty module name."
        : null;

    private static string? LayersProblem(LoraAdapterConfig config) =>
        config.LayersToTransform is not { } layers ? null
        // PEFT refuses this too: only listed names are narrowed by layer.
        : !config.TargetModules.IsList ? $"field 'layers_to_transform' cannot be used when 'target_modules' is a string ({config.TargetModules})."
        : layers.Any(l => l < 0) ? $"field 'layers_to_transform' has a negative layer index {layers.First(l => l < 0)}."
        : null;

    private static string? KeyProblem(string field, string key) =>
        key.Length == 0 ? $"field '{field}' has an empty key." : RegexProblem($"{field}['{key}']", key);

    private static string? RegexProblem(string subject, string pattern) =>
        PeftRegex.Problem(pattern) is { } problem ? $"{subject} is not a regular expression .NET can run: {problem}" : null;
}
