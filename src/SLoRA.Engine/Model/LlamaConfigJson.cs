using System.Text;
using System.Text.Json;

namespace SLoRA.Engine.Model;

/// <summary>
/// Reads and writes the Hugging Face <c>config.json</c> of a <c>LlamaForCausalLM</c>. Fields
/// this engine does not use are ignored; fields that would change the math in ways it does
/// not implement (RoPE scaling, biases, another activation or architecture) are refused, so a
/// model never runs silently wrong.
/// </summary>
internal static class LlamaConfigJson
{
    public static LlamaConfig Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"{source}: malformed JSON: {ex.Message}", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelLoadException($"{source}: config must be a JSON object, found {root.ValueKind}.");
            }

            var fields = new JsonFields<ModelLoadException>(root, problem => new ModelLoadException($"{source}: {problem}"));
            RefuseUnsupported(fields);
            var config = Read(fields);
            config.Validate(source);
            return config;
        }
    }

    public static string Write(LlamaConfig config)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("architectures");
            writer.WriteStringValue("LlamaForCausalLM");
            writer.WriteEndArray();
            writer.WriteString("model_type", "llama");
            writer.WriteNumber("hidden_size", config.HiddenSize);
            writer.WriteNumber("intermediate_size", config.IntermediateSize);
            writer.WriteNumber("num_hidden_layers", config.NumLayers);
            writer.WriteNumber("num_attention_heads", config.NumHeads);
            writer.WriteNumber("num_key_value_heads", config.NumKvHeads);
            writer.WriteNumber("head_dim", config.HeadDim);
            writer.WriteString("hidden_act", "silu");
            writer.WriteNumber("rms_norm_eps", config.RmsNormEps);
            writer.WriteNumber("rope_theta", config.RopeTheta);
            writer.WriteNull("rope_scaling");
            writer.WriteBoolean("attention_bias", false);
            writer.WriteBoolean("mlp_bias", false);
            writer.WriteNumber("vocab_size", config.VocabSize);
            writer.WriteBoolean("tie_word_embeddings", config.TieWordEmbeddings);
            writer.WriteNumber("max_position_embeddings", config.MaxPositionEmbeddings);
            if (config.BosTokenId is { } bos)
            {
                writer.WriteNumber("bos_token_id", bos);
            }

            WriteEos(writer, config.EosTokenIds);
            if (config.TorchDtype is { } dtype)
            {
                writer.WriteString("torch_dtype", dtype);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static LlamaConfig Read(JsonFields<ModelLoadException> fields)
    {
        var hidden = fields.RequiredInt("hidden_size");
        var heads = fields.RequiredInt("num_attention_heads");
        var headDim = fields.Int("head_dim");
        if (headDim is null && heads > 0 && hidden % heads != 0)
        {
            throw fields.Error($"hidden_size ({hidden}) is not divisible by num_attention_heads ({heads}) and head_dim is not given.");
        }

        return new LlamaConfig
        {
            HiddenSize = hidden,
            IntermediateSize = fields.RequiredInt("intermediate_size"),
            NumLayers = fields.RequiredInt("num_hidden_layers"),
            NumHeads = heads,
            NumKvHeads = fields.Int("num_key_value_heads") ?? heads,
            HeadDim = headDim ?? (heads > 0 ? hidden / heads : 0),
            VocabSize = fields.RequiredInt("vocab_size"),
            RmsNormEps = (float)(fields.Number("rms_norm_eps") ?? 1e-6),
            RopeTheta = RopeTheta(fields) ?? 10000,
            TieWordEmbeddings = fields.Bool("tie_word_embeddings") ?? false,
            MaxPositionEmbeddings = fields.Int("max_position_embeddings") ?? 2048,
            BosTokenId = fields.Int("bos_token_id"),
            EosTokenIds = fields.IntOrIntList("eos_token_id") ?? [],
            TorchDtype = fields.String("torch_dtype") ?? fields.String("dtype"),
        };
    }

    /// <summary>Newer transformers write the base inside <c>rope_parameters</c> instead of <c>rope_theta</c>.</summary>
    private static double? RopeTheta(JsonFields<ModelLoadException> fields) =>
        fields.Number("rope_theta") ?? (fields.Object("rope_parameters") is { } rope ? rope.Number("rope_theta") : null);

    private static void RefuseUnsupported(JsonFields<ModelLoadException> fields)
    {
        if (fields.String("model_type") is { } modelType && modelType != "llama")
        {
            throw fields.Error($"model_type '{modelType}' is not supported; only 'llama' is.");
        }

        if (fields.String("hidden_act") is { } act && act != "silu")
        {
            throw fields.Error($"hidden_act '{act}' is not supported; Llama's MLP uses 'silu'.");
        }

        foreach (var name in (string[])["rope_scaling", "rope_parameters"])
        {
            if (fields.Object(name) is { } rope && (rope.String("rope_type") ?? rope.String("type") ?? "default") != "default")
            {
                throw fields.Error($"{name} {fields.Raw(name)} is not supported; only plain RoPE is implemented.");
            }

            if (fields.IsPresent(name) && fields.Object(name) is null)
            {
                throw fields.Error($"{name} must be an object or null, found {fields.Raw(name)}.");
            }
        }

        foreach (var name in (string[])["attention_bias", "mlp_bias"])
        {
            if (fields.Bool(name) == true)
            {
                throw fields.Error($"{name} = true is not supported; Llama projections have no bias.");
            }
        }
    }

    private static void WriteEos(Utf8JsonWriter writer, IReadOnlyList<int> eos)
    {
        if (eos.Count == 1)
        {
            writer.WriteNumber("eos_token_id", eos[0]);
            return;
        }

        if (eos.Count == 0)
        {
            writer.WriteNull("eos_token_id");
            return;
        }

        writer.WriteStartArray("eos_token_id");
        foreach (var id in eos)
        {
            writer.WriteNumberValue(id);
        }

        writer.WriteEndArray();
    }
}
