namespace SLoRA.Engine.Model;

/// <summary>
/// Shape and hyper-parameters of a Hugging Face <c>LlamaForCausalLM</c>, as read from its
/// <c>config.json</c>. Only plain Llama is accepted: no RoPE scaling, no biases, SiLU MLP.
/// Values the engine derives from it (KV page counts and so on) live elsewhere.
/// </summary>
public sealed record LlamaConfig
{
    private readonly IReadOnlyList<int> _eosTokenIds = [];

    /// <summary><c>hidden_size</c>: width of the residual stream.</summary>
    public required int HiddenSize { get; init; }

    /// <summary><c>intermediate_size</c>: width of the SwiGLU MLP.</summary>
    public required int IntermediateSize { get; init; }

    /// <summary><c>num_hidden_layers</c>.</summary>
    public required int NumLayers { get; init; }

    /// <summary><c>num_attention_heads</c>: query heads.</summary>
    public required int NumHeads { get; init; }

    /// <summary><c>num_key_value_heads</c>: key/value heads (fewer than query heads under GQA).</summary>
    public required int NumKvHeads { get; init; }

    /// <summary><c>head_dim</c>; when the file omits it, <c>hidden_size / num_attention_heads</c>.</summary>
    public required int HeadDim { get; init; }

    /// <summary><c>vocab_size</c>.</summary>
    public required int VocabSize { get; init; }

    /// <summary><c>rms_norm_eps</c>.</summary>
    public float RmsNormEps { get; init; } = 1e-6f;

    /// <summary><c>rope_theta</c>: the RoPE base.</summary>
    public double RopeTheta { get; init; } = 10000;

    /// <summary><c>tie_word_embeddings</c>: the LM head reuses the embedding matrix.</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary><c>max_position_embeddings</c>: the longest context the model was trained for.</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;

    /// <summary><c>bos_token_id</c>, if the model has one.</summary>
    public int? BosTokenId { get; init; }

    /// <summary><c>eos_token_id</c> as a list: a model may stop on any of several tokens.</summary>
    public IReadOnlyList<int> EosTokenIds
    {
        get => _eosTokenIds;
        init => _eosTokenIds = Array.AsReadOnly(value.ToArray());
    }

    /// <summary><c>torch_dtype</c> (or <c>dtype</c>) of the checkpoint; informational only.</summary>
    public string? TorchDtype { get; init; }

    /// <summary>Width of all query heads together: <c>NumHeads * HeadDim</c>.</summary>
    public int QDim => NumHeads * HeadDim;

    /// <summary>Width of all key (or value) heads together: <c>NumKvHeads * HeadDim</c>.</summary>
    public int KvDim => NumKvHeads * HeadDim;

    /// <summary>Query heads that share one key/value head.</summary>
    public int GroupSize => NumHeads / NumKvHeads;

    /// <summary>The shape of Llama-2-7B, which S-LoRA's benchmarks use with dummy weights.</summary>
    public static LlamaConfig Llama7B { get; } = new()
    {
        HiddenSize = 4096,
        IntermediateSize = 11008,
        NumLayers = 32,
        NumHeads = 32,
        NumKvHeads = 32,
        HeadDim = 128,
        VocabSize = 32000,
        RmsNormEps = 1e-5f,
        RopeTheta = 10000,
        MaxPositionEmbeddings = 4096,
        BosTokenId = 1,
        EosTokenIds = [2],
        TorchDtype = "float16",
    };

    /// <summary>Reads and validates a <c>config.json</c>.</summary>
    /// <exception cref="ModelLoadException">The file is missing, malformed or describes an unsupported model.</exception>
    public static LlamaConfig Load(string configJsonPath)
    {
        string json;
        try
        {
            json = File.ReadAllText(configJsonPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"{configJsonPath}: cannot read config: {ex.Message}", ex);
        }

        return Parse(json, configJsonPath);
    }

    /// <summary>Parses and validates config JSON; <paramref name="sourceName"/> is named in every error.</summary>
    /// <exception cref="ModelLoadException">Malformed JSON, a missing or bad field, or an unsupported model.</exception>
    public static LlamaConfig Parse(string json, string sourceName) => LlamaConfigJson.Parse(json, sourceName);

    /// <summary>Writes Hugging Face style <c>config.json</c> text that <see cref="Parse"/> reads back equal.</summary>
    public string ToJson() => LlamaConfigJson.Write(this);

    /// <summary>
    /// Checks the sizes fit together (positive, heads divisible by KV heads, even head_dim for
    /// RoPE, token ids inside the vocabulary). <see cref="Parse"/> calls it; call it for configs
    /// built in code.
    /// </summary>
    /// <exception cref="ModelLoadException">A value is out of range; the message names the field.</exception>
    public void Validate(string sourceName)
    {
        RequirePositive(sourceName, "hidden_size", HiddenSize);
        RequirePositive(sourceName, "intermediate_size", IntermediateSize);
        RequirePositive(sourceName, "num_hidden_layers", NumLayers);
        RequirePositive(sourceName, "num_attention_heads", NumHeads);
        RequirePositive(sourceName, "num_key_value_heads", NumKvHeads);
        RequirePositive(sourceName, "head_dim", HeadDim);
        RequirePositive(sourceName, "vocab_size", VocabSize);
        RequirePositive(sourceName, "max_position_embeddings", MaxPositionEmbeddings);
        if (NumHeads % NumKvHeads != 0)
        {
            throw Invalid(sourceName, $"num_attention_heads ({NumHeads}) is not divisible by num_key_value_heads ({NumKvHeads}).");
        }

        if (HeadDim % 2 != 0)
        {
            throw Invalid(sourceName, $"head_dim ({HeadDim}) is odd; RoPE rotates pairs of dimensions.");
        }

        if (!(RmsNormEps > 0) || !float.IsFinite(RmsNormEps))
        {
            throw Invalid(sourceName, $"rms_norm_eps ({RmsNormEps}) must be a positive number.");
        }

        if (!(RopeTheta > 0) || !double.IsFinite(RopeTheta))
        {
            throw Invalid(sourceName, $"rope_theta ({RopeTheta}) must be a positive number.");
        }

        if (BosTokenId is { } bos)
        {
            RequireTokenId(sourceName, "bos_token_id", bos);
        }

        foreach (var eos in EosTokenIds)
        {
            RequireTokenId(sourceName, "eos_token_id", eos);
        }
    }

    /// <summary>Value equality, including the EOS list (a record would compare it by reference).</summary>
    public bool Equals(LlamaConfig? other) =>
        other is not null
        && HiddenSize == other.HiddenSize
        && IntermediateSize == other.IntermediateSize
        && NumLayers == other.NumLayers
        && NumHeads == other.NumHeads
        && NumKvHeads == other.NumKvHeads
        && HeadDim == other.HeadDim
        && VocabSize == other.VocabSize
        && RmsNormEps.Equals(other.RmsNormEps)
        && RopeTheta.Equals(other.RopeTheta)
        && TieWordEmbeddings == other.TieWordEmbeddings
        && MaxPositionEmbeddings == other.MaxPositionEmbeddings
        && BosTokenId == other.BosTokenId
        && EosTokenIds.SequenceEqual(other.EosTokenIds)
        && TorchDtype == other.TorchDtype;

    /// <summary>One line for logs, in config.json's field names.</summary>
    public override string ToString() =>
        $"llama hidden_size={HiddenSize} intermediate_size={IntermediateSize} num_hidden_layers={NumLayers} " +
        $"num_attention_heads={NumHeads} num_key_value_heads={NumKvHeads} head_dim={HeadDim} vocab_size={VocabSize} " +
        $"rms_norm_eps={RmsNormEps} rope_theta={RopeTheta} tie_word_embeddings={TieWordEmbeddings} " +
        $"max_position_embeddings={MaxPositionEmbeddings} bos_token_id={BosTokenId?.ToString() ?? "null"} " +
        $"eos_token_id=[{string.Join(", ", EosTokenIds)}]";

    /// <inheritdoc/>
    public override int GetHashCode() =>
        HashCode.Combine(HiddenSize, IntermediateSize, NumLayers, NumHeads, NumKvHeads, HeadDim, VocabSize, TieWordEmbeddings);

    private void RequireTokenId(string sourceName, string field, int id)
    {
        if (id < 0 || id >= VocabSize)
        {
            throw Invalid(sourceName, $"{field} ({id}) is outside the vocabulary of {VocabSize} tokens.");
        }
    }

    private static void RequirePositive(string sourceName, string field, int value)
    {
        if (value <= 0)
        {
            throw Invalid(sourceName, $"{field} must be positive, found {value}.");
        }
    }

    private static ModelLoadException Invalid(string sourceName, string problem) => new($"{sourceName}: {problem}");
}
