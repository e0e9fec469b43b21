using System.Runtime.ExceptionServices;

namespace SLoRA.Engine.Model;

/// <summary>
/// The host copy of a Llama model's weights in fp16: every tensor the forward pass needs,
/// checked against the <see cref="LlamaConfig"/> shapes. Loaded from a Hugging Face folder or
/// made synthetically; the device copy is made from this.
/// </summary>
public sealed class ModelWeights
{
    private readonly Dictionary<string, HostTensor> _tensors;

    private ModelWeights(LlamaConfig config, Dictionary<string, HostTensor> tensors)
    {
        Config = config;
        _tensors = tensors;
        Tensors = WeightNames.Expected(config).Select(e => tensors[e.Name]).ToArray();
    }

    /// <summary>The config the shapes were checked against.</summary>
    public LlamaConfig Config { get; }

    /// <summary>Every distinct tensor, in checkpoint order (no separate lm_head when tied).</summary>
    public IReadOnlyList<HostTensor> Tensors { get; }

    /// <summary>Token embedding <c>[vocab_size, hidden_size]</c>.</summary>
    public HostTensor Embedding => _tensors[WeightNames.Embedding];

    /// <summary>LM head <c>[vocab_size, hidden_size]</c>; the embedding itself when tied.</summary>
    public HostTensor LmHead => Config.TieWordEmbeddings ? Embedding : _tensors[WeightNames.LmHead];

    /// <summary>Host bytes of all distinct tensors (a tied head counts once).</summary>
    public long TotalBytes => Tensors.Sum(t => t.ByteLength);

    /// <summary>A tensor by checkpoint name (see <see cref="WeightNames"/>); <c>lm_head.weight</c> works when tied.</summary>
    /// <exception cref="KeyNotFoundException">The model has no such tensor.</exception>
    public HostTensor Get(string name) =>
        name == WeightNames.LmHead ? LmHead
        : _tensors.TryGetValue(name, out var tensor) ? tensor
        : throw new KeyNotFoundException($"The model has no tensor '{name}'.");

    /// <summary>
    /// Loads <c>model.safetensors</c>, or the shards of <c>model.safetensors.index.json</c>, from
    /// <paramref name="modelFolder"/>, converting to fp16. All shapes are checked before any data
    /// is read. Tensors the model does not use (e.g. <c>rotary_emb.inv_freq</c>) are ignored, and
    /// so is <c>lm_head.weight</c> when embeddings are tied. Tensors are read in parallel;
    /// <paramref name="progress"/> is called from worker threads, one call at a time, in order.
    /// </summary>
    /// <exception cref="ModelLoadException">A file is missing or malformed, or a tensor is missing or mis-shaped.</exception>
    public static ModelWeights Load(string modelFolder, LlamaConfig config, IProgress<ModelLoadProgress>? progress = null)
    {
        config.Validate($"config of {modelFolder}");
        using var checkpoint = CheckpointFiles.Open(modelFolder);
        var plan = WeightNames.Expected(config).Select(e => Check(checkpoint, e.Name, e.Shape)).ToList();

        var bytesTotal = plan.Sum(p => p.Info.ByteLength);
        progress?.Report(new ModelLoadProgress(0, plan.Count, 0, bytesTotal));
        var tensors = new HostTensor[plan.Count];
        var (tensorsDone, bytesDone) = (0, 0L);
        var progressLock = new Lock();
        // Tensors are read in parallel: converting BF16/F32 costs more than an NVMe read, and
        // positional reads let threads share one file handle.
        RethrowFirst(() => Parallel.For(0, plan.Count, i =>
        {
            var (file, info, shape) = plan[i];
            tensors[i] = new HostTensor(info.Name, shape, file.ReadHalf(info.Name));
            lock (progressLock)
            {
                (tensorsDone, bytesDone) = (tensorsDone + 1, bytesDone + info.ByteLength);
                progress?.Report(new ModelLoadProgress(tensorsDone, plan.Count, bytesDone, bytesTotal));
            }
        }));

        return new ModelWeights(config, tensors.ToDictionary(t => t.Name, StringComparer.Ordinal));
    }

    /// <summary>
    /// Deterministic random weights of the given shape: the same seed gives the same bits on any
    /// machine. Fast enough for Llama-7B (all cores are used).
    /// </summary>
    /// <exception cref="ModelLoadException">The config is invalid.</exception>
    /// <exception cref="ArgumentException">A tensor has more elements than one array can hold.</exception>
    public static ModelWeights Synthetic(LlamaConfig config, int seed)
    {
        config.Validate("synthetic model config");
        return new ModelWeights(config, SyntheticWeights.Generate(config, seed));
    }

    /// <summary>
    /// Writes <c>config.json</c> and an fp16 <c>model.safetensors</c> that <see cref="Load"/> (and
    /// transformers) read back. A stale <c>model.safetensors.index.json</c> is removed, since it
    /// would otherwise take precedence.
    /// </summary>
    public void SaveAsFolder(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, ModelFiles.Config), (Config with { TorchDtype = "float16" }).ToJson());
        File.Delete(Path.Combine(folder, ModelFiles.WeightsIndex));
        SafetensorsWriter.Write(
            Path.Combine(folder, ModelFiles.Weights),
            Tensors.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<Half>)t.Data)),
            new Dictionary<string, string> { ["format"] = "pt" });
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

    private static (SafetensorsFile File, SafetensorsTensorInfo Info, int[] Shape) Check(
        CheckpointFiles checkpoint, string name, int[] shape)
    {
        if (checkpoint.Locate(name) is not { } located)
        {
            throw new ModelLoadException($"{checkpoint.Source}: tensor '{name}' (expected shape {Shapes.Format(shape)}) is missing.");
        }

        var (file, info) = located;
        if (!info.HasShape(shape))
        {
            throw new ModelLoadException(
                $"{file.Path}: tensor '{name}' has shape {Shapes.Format(info.Shape)}, expected {Shapes.Format(shape)}.");
        }

        if (!info.DType.IsConvertibleToHalf())
        {
            throw new ModelLoadException(
                $"{file.Path}: tensor '{name}' has dtype {info.DType.ToHeaderName()}; weights must be F16, BF16, F32 or F64.");
        }

        return (file, info, shape);
    }
}
