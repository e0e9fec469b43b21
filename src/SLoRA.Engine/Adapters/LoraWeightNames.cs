using System.Globalization;
using SLoRA.Engine.Model;

namespace SLoRA.Engine.Adapters;

/// <summary>
/// Module and tensor names of a PEFT LoRA adapter on a Llama model, so no other code spells them
/// out. PEFT names a module as the base model's <c>named_modules()</c> does
/// (<c>model.layers.3.self_attn.q_proj</c>) and saves its factors as
/// <c>base_model.model.&lt;module&gt;.lora_A.weight</c>, shape <c>[r, in_features]</c>, and
/// <c>...lora_B.weight</c>, shape <c>[out_features, r]</c>.
/// </summary>
public static class LoraWeightNames
{
    /// <summary>What PEFT's <c>PeftModel</c> wrapper puts before the base model's own names.</summary>
    public const string Prefix = "base_model.model.";

    private const string WeightSuffix = ".weight";
    private const string LoraASuffix = ".lora_A.weight";
    private const string LoraBSuffix = ".lora_B.weight";

    /// <summary>The module's name, e.g. <c>model.layers.3.self_attn.q_proj</c>; what <c>target_modules</c> is matched against.</summary>
    /// <exception cref="ArgumentException"><paramref name="module"/> is not one of <see cref="WeightNames.ProjectionModules"/>.</exception>
    public static string ModuleName(int layer, string module) => WeightNames.Projection(layer, module)[..^WeightSuffix.Length];

    /// <summary>Name of the down-projection factor A, <c>[r, in_features]</c>.</summary>
    public static string LoraA(int layer, string module) => Prefix + ModuleName(layer, module) + LoraASuffix;

    /// <summary>Name of the up-projection factor B, <c>[out_features, r]</c>.</summary>
    public static string LoraB(int layer, string module) => Prefix + ModuleName(layer, module) + LoraBSuffix;

    /// <summary>
    /// Splits a tensor name into its layer, module and factor. Only names that <see cref="LoraA"/>
    /// or <see cref="LoraB"/> would write parse, so a module under the wrong parent
    /// (<c>mlp.q_proj</c>) or a layer written <c>03</c> does not.
    /// </summary>
    public static bool TryParse(string tensorName, out int layer, out string module, out bool isA)
    {
        (layer, module, isA) = (0, "", false);
        var a = tensorName.EndsWith(LoraASuffix, StringComparison.Ordinal);
        if (tensorName.Length < Prefix.Length + LoraASuffix.Length
            || !tensorName.StartsWith(Prefix, StringComparison.Ordinal)
            || !(a || tensorName.EndsWith(LoraBSuffix, StringComparison.Ordinal)))
        {
            return false;
        }

        // model.layers.<layer>.<self_attn|mlp>.<module>, between suffixes of equal length.
        var parts = tensorName[Prefix.Length..^LoraASuffix.Length].Split('.');
        if (parts.Length != 5
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var parsedLayer)
            || !WeightNames.ProjectionModules.Contains(parts[4]))
        {
            return false;
        }

        if ((a ? LoraA(parsedLayer, parts[4]) : LoraB(parsedLayer, parts[4])) != tensorName)
        {
            return false;
        }

        (layer, module, isA) = (parsedLayer, parts[4], a);
        return true;
    }

    /// <summary>Why a tensor that <see cref="TryParse"/> refused has no place in a plain LoRA adapter.</summary>
    internal static string WhyUnexpected(string tensorName) => tensorName switch
    {
        _ when tensorName.Contains("lora_magnitude_vector", StringComparison.Ordinal) =>
            "it is a DoRA magnitude vector; DoRA adapters are not supported",
        _ when tensorName.Contains("lora_embedding_", StringComparison.Ordinal) =>
            "it is an embedding LoRA factor; LoRA on embed_tokens is not supported",
        _ when tensorName.Contains(".lora_B.", StringComparison.Ordinal) && tensorName.EndsWith(".bias", StringComparison.Ordinal) =>
            "it is a LoRA B bias (lora_bias); biases are not supported",
        _ when tensorName.EndsWith(".bias", StringComparison.Ordinal) =>
            "it is a bias; Llama projections have none and adapters with bias != \"none\" are not supported",
        _ when tensorName.Contains("lm_head", StringComparison.Ordinal) =>
            "it belongs to lm_head; LoRA on lm_head is not supported",
        _ when tensorName.Contains("modules_to_save", StringComparison.Ordinal) || !tensorName.Contains("lora_", StringComparison.Ordinal) =>
            "it is a full weight, not a LoRA factor (modules_to_save or trainable tokens?), which is not supported",
        _ => "it is not the lora_A or lora_B weight of a Llama projection (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)",
    };
}
