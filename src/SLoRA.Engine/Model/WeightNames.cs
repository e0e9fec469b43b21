namespace SLoRA.Engine.Model;

/// <summary>
/// Tensor names of a Hugging Face Llama checkpoint, so no other code spells them out. Linear
/// weights are stored <c>[out_features, in_features]</c>, as <c>torch.nn.Linear</c> keeps them.
/// </summary>
public static class WeightNames
{
    private static readonly string[] AttentionModules = ["q_proj", "k_proj", "v_proj", "o_proj"];
    private static readonly string[] MlpModules = ["gate_proj", "up_proj", "down_proj"];

    /// <summary>Token embedding, <c>[vocab_size, hidden_size]</c>.</summary>
    public const string Embedding = "model.embed_tokens.weight";

    /// <summary>RMSNorm weight after the last layer, <c>[hidden_size]</c>.</summary>
    public const string FinalNorm = "model.norm.weight";

    /// <summary>Output projection to logits, <c>[vocab_size, hidden_size]</c>; absent when embeddings are tied.</summary>
    public const string LmHead = "lm_head.weight";

    /// <summary>The linear modules of a layer, by their PEFT <c>target_modules</c> names.</summary>
    public static IReadOnlyList<string> ProjectionModules { get; } = [.. AttentionModules, .. MlpModules];

    /// <summary>RMSNorm before attention, <c>[hidden_size]</c>.</summary>
    public static string InputNorm(int layer) => $"{Layer(layer)}.input_layernorm.weight";

    /// <summary>RMSNorm before the MLP, <c>[hidden_size]</c>.</summary>
    public static string PostAttentionNorm(int layer) => $"{Layer(layer)}.post_attention_layernorm.weight";

    /// <summary>Query projection, <c>[q_dim, hidden_size]</c>.</summary>
    public static string QProj(int layer) => Projection(layer, "q_proj");

    /// <summary>Key projection, <c>[kv_dim, hidden_size]</c>.</summary>
    public static string KProj(int layer) => Projection(layer, "k_proj");

    /// <summary>Value projection, <c>[kv_dim, hidden_size]</c>.</summary>
    public static string VProj(int layer) => Projection(layer, "v_proj");

    /// <summary>Attention output projection, <c>[hidden_size, q_dim]</c>.</summary>
    public static string OProj(int layer) => Projection(layer, "o_proj");

    /// <summary>SwiGLU gate projection, <c>[intermediate_size, hidden_size]</c>.</summary>
    public static string GateProj(int layer) => Projection(layer, "gate_proj");

    /// <summary>SwiGLU up projection, <c>[intermediate_size, hidden_size]</c>.</summary>
    public static string UpProj(int layer) => Projection(layer, "up_proj");

    /// <summary>SwiGLU down projection, <c>[hidden_size, intermediate_size]</c>.</summary>
    public static string DownProj(int layer) => Projection(layer, "down_proj");

    /// <summary>Weight name of a linear module given by its PEFT name, e.g. <c>("q_proj", 3)</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="module"/> is not one of <see cref="ProjectionModules"/>.</exception>
    public static string Projection(int layer, string module) => module switch
    {
        "q_proj" or "k_proj" or "v_proj" or "o_proj" => $"{Layer(layer)}.self_attn.{module}.weight",
        "gate_proj" or "up_proj" or "down_proj" => $"{Layer(layer)}.mlp.{module}.weight",
        _ => throw new ArgumentException($"'{module}' is not a Llama linear module.", nameof(module)),
    };

    /// <summary>Shape <c>[out_features, in_features]</c> of a linear module given by its PEFT name.</summary>
    /// <exception cref="ArgumentException"><paramref name="module"/> is not one of <see cref="ProjectionModules"/>.</exception>
    public static int[] ProjectionShape(LlamaConfig config, string module) => module switch
    {
        "q_proj" => [config.QDim, config.HiddenSize],
        "k_proj" or "v_proj" => [config.KvDim, config.HiddenSize],
        "o_proj" => [config.HiddenSize, config.QDim],
        "gate_proj" or "up_proj" => [config.IntermediateSize, config.HiddenSize],
        "down_proj" => [config.HiddenSize, config.IntermediateSize],
        _ => throw new ArgumentException($"'{module}' is not a Llama linear module.", nameof(module)),
    };

    /// <summary>
    /// Every tensor the engine needs, with its exact shape, in checkpoint order. <c>lm_head</c>
    /// is left out when embeddings are tied.
    /// </summary>
    public static IReadOnlyList<(string Name, int[] Shape)> Expected(LlamaConfig config)
    {
        var hidden = config.HiddenSize;
        var list = new List<(string, int[])> { (Embedding, [config.VocabSize, hidden]) };
        for (var layer = 0; layer < config.NumLayers; layer++)
        {
            list.Add((InputNorm(layer), [hidden]));
            list.AddRange(AttentionModules.Select(m => (Projection(layer, m), ProjectionShape(config, m))));
            list.Add((PostAttentionNorm(layer), [hidden]));
            list.AddRange(MlpModules.Select(m => (Projection(layer, m), ProjectionShape(config, m))));
        }

        list.Add((FinalNorm, [hidden]));
        if (!config.TieWordEmbeddings)
        {
            list.Add((LmHead, [config.VocabSize, hidden]));
        }

        return list;
    }

    private static string Layer(int layer) => $"model.layers.{layer}";
}
