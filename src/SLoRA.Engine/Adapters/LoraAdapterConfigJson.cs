using System.Text;
using System.Text.Json;
using SLoRA.Engine.Model;

namespace SLoRA.Engine.Adapters;

/// <summary>
/// Reads and writes PEFT's <c>adapter_config.json</c> for LoRA. Fields that only matter when
/// training or initializing (dropout, <c>init_lora_weights</c>, LoftQ/EVA/CorDA configs, ...) or
/// that are informational (<c>task_type</c>, <c>peft_version</c>, ...) are ignored, and so are
/// fields this reader does not know. Fields that change what the adapter computes, and that the
/// engine does not implement, are refused by name.
/// </summary>
internal static class LoraAdapterConfigJson
{
    /// <summary>Variant switches PEFT stores as objects or lists; any non-null value changes the forward pass.</summary>
    private static readonly (string Field, string Why)[] UnsupportedWhenSet =
    [
        ("layer_replication", "layer replication stacks copies of base layers, which the engine does not build"),
        ("alora_invocation_tokens", "activated LoRA (aLoRA) applies the adapter only after its invocation tokens, which the engine does not implement"),
        ("use_bdlora", "block-diagonal LoRA (BD-LoRA) is not supported"),
        ("arrow_config", "Arrow routing between LoRA experts is not supported"),
        ("kasa_config", "KaSA inserts a learned diagonal between A and B, which the engine does not implement"),
        ("monteclora_config", "MonteCLoRA samples perturbations of A, which the engine does not implement"),
        ("trainable_token_indices", "trainable tokens change embedding rows, which the engine does not implement"),
    ];

    /// <summary>Variant switches PEFT stores as booleans.</summary>
    private static readonly (string Field, string Why)[] UnsupportedWhenTrue =
    [
        ("use_dora", "DoRA (weight-decomposed LoRA) adapters are not supported"),
        ("lora_bias", "a bias on LoRA B is not supported"),
        ("fan_in_fan_out", "it is for GPT-2 style Conv1D weights stored [in, out]; Llama's linear weights are [out, in]"),
        ("use_qalora", "QA-LoRA pools the input before A, which the engine does not implement"),
    ];

    public static LoraAdapterConfig Parse(string json, string adapterId, string source)
    {
        JsonDocument document;
        try
        {
            // A repeated key would be read differently by different parsers; refuse the ambiguity.
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            throw new AdapterLoadException(adapterId, source, $"malformed JSON: {ex.Message}", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new AdapterLoadException(adapterId, source, $"adapter config must be a JSON object, found {root.ValueKind}.");
            }

            var fields = new Fields(root, adapterId, source);
            RefuseUnsupported(fields);
            var config = Read(fields);
            config.Validate(adapterId, source);
            return config;
        }
    }

    public static string Write(LoraAdapterConfig config)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("peft_type", "LORA");
            writer.WriteString("task_type", "CAUSAL_LM");
            WriteStringOrNull(writer, "base_model_name_or_path", config.BaseModelNameOrPath);
            writer.WriteNumber("r", config.Rank);
            writer.WriteNumber("lora_alpha", config.Alpha);
            WriteSelector(writer, "target_modules", config.TargetModules);
            WriteSelector(writer, "exclude_modules", config.ExcludeModules);
            writer.WriteBoolean("use_rslora", config.UseRsLora);
            writer.WriteStartObject("rank_pattern");
            foreach (var (key, rank) in config.RankPattern)
            {
                writer.WriteNumber(key, rank);
            }

            writer.WriteEndObject();
            writer.WriteStartObject("alpha_pattern");
            foreach (var (key, alpha) in config.AlphaPattern)
            {
                writer.WriteNumber(key, alpha);
            }

            writer.WriteEndObject();
            if (config.LayersToTransform is { } layers)
            {
                writer.WriteStartArray("layers_to_transform");
                foreach (var layer in layers)
                {
                    writer.WriteNumberValue(layer);
                }

                writer.WriteEndArray();
            }
            else
            {
                writer.WriteNull("layers_to_transform");
            }

            writer.WriteNull("layers_pattern");
            writer.WriteString("bias", "none");
            writer.WriteBoolean("lora_bias", false);
            writer.WriteBoolean("use_dora", false);
            writer.WriteBoolean("fan_in_fan_out", false);
            writer.WriteNull("modules_to_save");
            writer.WriteNumber("lora_dropout", 0.0);
            writer.WriteBoolean("inference_mode", true);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static LoraAdapterConfig Read(Fields fields) => new()
    {
        Rank = fields.Int("r") ?? throw fields.Error("missing required field 'r'."),
        Alpha = fields.Number("lora_alpha") ?? throw fields.Error("missing required field 'lora_alpha'."),
        TargetModules = fields.Selector("target_modules") ?? throw fields.Error("missing required field 'target_modules'."),
        ExcludeModules = fields.Selector("exclude_modules"),
        UseRsLora = fields.Bool("use_rslora") ?? false,
        RankPattern = fields.Map("rank_pattern", (value, describe) =>
            value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var rank) ? rank : throw fields.Error($"{describe} must be an integer, found {value.GetRawText()}.")),
        AlphaPattern = fields.Map("alpha_pattern", (value, describe) =>
            value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw fields.Error($"{describe} must be a number, found {value.GetRawText()}.")),
        LayersToTransform = fields.IntOrIntList("layers_to_transform"),
        BaseModelNameOrPath = fields.String("base_model_name_or_path"),
    };

    private static void RefuseUnsupported(Fields fields)
    {
        var peftType = fields.String("peft_type") ?? throw fields.Error("missing required field 'peft_type'.");
        if (peftType != "LORA")
        {
            throw fields.Error($"field 'peft_type' is '{peftType}'; only 'LORA' adapters are supported.");
        }

        foreach (var (field, why) in UnsupportedWhenTrue)
        {
            if (fields.Bool(field) == true)
            {
                throw fields.Error($"field '{field}' is true: {why}.");
            }
        }

        foreach (var (field, why) in UnsupportedWhenSet)
        {
            if (fields.IsPresent(field))
            {
                throw fields.Error($"field '{field}' is {fields.Raw(field)}: {why}.");
            }
        }

        if (fields.String("bias") is { } bias && bias != "none")
        {
            throw fields.Error($"field 'bias' is '{bias}'; only \"none\" is supported, as Llama projections have no bias.");
        }

        if (fields.IsNonEmptyList("modules_to_save"))
        {
            throw fields.Error($"field 'modules_to_save' is {fields.Raw("modules_to_save")}: full copies of base modules are not supported, only LoRA factors.");
        }

        if (fields.IsNonEmptyList("target_parameters"))
        {
            throw fields.Error($"field 'target_parameters' is {fields.Raw("target_parameters")}: LoRA on bare parameters (MoE experts) is not supported.");
        }

        // Empty or "layers" both find Llama's layer index in "model.layers.<i>."; another name would match no module.
        if (fields.Selector("layers_pattern") is { } layersPattern
            && !(layersPattern.Pattern is "" or "layers" || (layersPattern.IsList && layersPattern.Names.All(n => n == "layers"))))
        {
            throw fields.Error($"field 'layers_pattern' is {fields.Raw("layers_pattern")}; Llama's layers are under \"layers\".");
        }
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteSelector(Utf8JsonWriter writer, string name, LoraTargetModules? selector)
    {
        if (selector is null)
        {
            writer.WriteNull(name);
        }
        else if (!selector.IsList)
        {
            writer.WriteString(name, selector.ToString());
        }
        else
        {
            writer.WriteStartArray(name);
            foreach (var module in selector.Names)
            {
                writer.WriteStringValue(module);
            }

            writer.WriteEndArray();
        }
    }

    /// <summary>The shared typed fields, plus the shapes only adapter_config.json has.</summary>
    private sealed class Fields(JsonElement element, string adapterId, string source)
        : JsonFields<AdapterLoadException>(element, problem => new AdapterLoadException(adapterId, source, problem))
    {
        public bool IsNonEmptyList(string name) => Get(name) is { } value
            && (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > 0);

        /// <summary>A string (an expression, or "all-linear") or a list of strings.</summary>
        public LoraTargetModules? Selector(string name)
        {
            if (Get(name) is not { } value)
                return null;
            if (value.ValueKind == JsonValueKind.String)
                return LoraTargetModules.FromPattern(value.GetString()!);
            if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(item => item.ValueKind == JsonValueKind.String))
                return LoraTargetModules.FromNames(value.EnumerateArray().Select(item => item.GetString()!));
            throw Error($"field '{name}' must be a string or a list of strings, found {value.GetRawText()}.");
        }

        /// <summary>An object's entries in file order, values converted by <paramref name="convert"/>.</summary>
        public KeyValuePair<string, T>[] Map<T>(string name, Func<JsonElement, string, T> convert)
        {
            if (Get(name) is not { } value)
                return [];
            if (value.ValueKind != JsonValueKind.Object)
                throw Error($"field '{name}' must be an object, found {value.GetRawText()}.");
            return value.EnumerateObject()
                .Select(entry => KeyValuePair.Create(entry.Name, convert(entry.Value, $"{name}['{entry.Name}']")))
                .ToArray();
        }
    }
}
