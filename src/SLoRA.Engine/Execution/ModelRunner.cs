using ILGPU;
using ILGPU.Runtime;
using SLoRA.Engine.Gemm;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Memory;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Execution;

/// <summary>
/// Runs the Llama forward pass of one <see cref="ForwardBatch"/> on the device: embeddings, per
/// layer RMSNorm → fused qkv GEMM → RoPE + KV write → paged attention → o GEMM (accumulated into
/// the fp32 residual) → RMSNorm → fused gate/up GEMM → SwiGLU → down GEMM (accumulated), then the
/// final norm and lm_head on the rows that need logits. Weights and KV are fp16; the residual
/// stream, projection outputs and all accumulation are fp32. Owns the unified page pool's memory.
/// Not thread-safe: call it from the thread that owns the device.
/// </summary>
public sealed class ModelRunner : IDisposable
{
    private readonly ComputeDevice _device;
    private readonly Accelerator _acc;
    private readonly AcceleratorStream _stream;
    private readonly IGemm _gemm;
    private readonly DeviceWeights _weights;
    private readonly AttentionShape _shape;
    private readonly ModelRunnerOptions _options;
    private readonly List<IDisposable> _owned = [];

    private readonly EmbeddingKernel _embed;
    private readonly RmsNormKernel _norm;
    private readonly RopeKernel _rope;
    private readonly AttentionKernel _attention;
    private readonly SwiGluKernel _swiGlu;
    private readonly LoraKernels _lora;
    private readonly TunedKernels? _tuned;
    private readonly MbgmvKernels? _mbgmv;
    private readonly FlashDecodeKernels? _flash;
    private readonly PrefillAttentionKernels? _prefill;
    private readonly SegmentLoraKernels? _segment;
    // The stream LoRA shrinks run on beside the base GEMMs (GPU-tuned path), and its joins with _stream.
    private readonly AcceleratorStream? _side;
    private readonly StreamJoin? _join;
    private readonly bool _tunedAttention;
    private readonly FlashScratch _flashScratch;
    private const int MaxSplits = 64;
    private readonly ArrayView<int> _argTokens;
    private readonly ArrayView<float> _argLogprobs;
    private readonly LoraGroup _qkvGroup, _oGroup, _gateUpGroup, _downGroup;

    private readonly ArrayView<int> _tokens, _positions, _seqOfToken, _kvPages, _logitRows, _identityRows, _pageListStart, _loraSlots, _decodeTokens;
    private readonly ArrayView<TokenTile> _tiles;
    private MemoryBuffer1D<int, Stride1D.Dense> _pageLists;
    private readonly ArrayView<float> _residual, _qkv, _gateUp, _logits, _cos, _sin, _shrunk;
    private readonly ArrayView<Half> _normed, _attnOut, _act;
    private readonly MemoryBuffer1D<Half, Stride1D.Dense> _pool;

    /// <summary>Uploads the weights and allocates scratch buffers and the page pool.</summary>
    public ModelRunner(ComputeDevice device, ModelWeights weights, ModelRunnerOptions? options = null, IProgress<string>? progress = null)
    {
        _options = options ?? new ModelRunnerOptions();
        _options.Validate();
        _device = device;
        _acc = device.Accelerator;
        device.Bind();
        Config = weights.Config;
        var c = Config;
        if (c.HeadDim > AttentionKernel.MaxHeadDim)
            throw new NotSupportedException($"head_dim {c.HeadDim} exceeds the supported maximum {AttentionKernel.MaxHeadDim}.");
        _shape = new AttentionShape(c.NumHeads, c.NumKvHeads, c.HeadDim, c.NumLayers);
        _stream = _acc.CreateStream();
        _owned.Add(_stream);
        _gemm = GemmFactory.Create(device);
        _owned.Add(_gemm);
        _weights = new DeviceWeights(_acc, _gemm, weights, progress);
        _owned.Add(_weights);

        _embed = new EmbeddingKernel(_acc);
        _norm = new RmsNormKernel(_acc);
        _rope = new RopeKernel(_acc);
        _attention = new AttentionKernel(_acc);
        _swiGlu = new SwiGluKernel(_acc);
        _lora = new LoraKernels(_acc);
        bool tuned = _options.Kernels == KernelVariant.Tuned || (_options.Kernels == KernelVariant.Auto && device.IsCuda);
        if (tuned)
        {
            _tuned = new TunedKernels(_acc);
            _mbgmv = new MbgmvKernels(_acc);
            var flash = new FlashDecodeKernels(_acc);
            if (flash.Supports(_shape))
            {
                _flash = flash;
                // Prefill segments in tiles: each K/V block read once per tile, not once per token.
                var prefill = new PrefillAttentionKernels(_acc);
                if (prefill.Supports(_shape))
                    _prefill = prefill;
            }
            else
            {
                _tunedAttention = _tuned.SupportsHeadDim(c.HeadDim);
            }
            if (_options.OverlapLoraShrink)
            {
                _side = _acc.CreateStream();
                _owned.Add(_side);
                _join = StreamJoin.Create(_acc);
                _owned.Add(_join);
            }
            var segment = new SegmentLoraKernels(_acc, _options.TensorCoreLora);
            if (segment.Supports)
                _segment = segment;
            if (PrefillAttentionKernels.TileTokens < ForwardBatch.TileTokens || SegmentLoraKernels.TileTokens < ForwardBatch.TileTokens)
                throw new InvalidOperationException("The tile kernels take fewer tokens per tile than ForwardBatch makes.");
        }
        KernelSummary = _tuned is null
            ? "portable (thread per row)"
            : "attention " + (_prefill is not null ? "flash-decoding + prefill tiles" : _flash is not null ? "flash-decoding" : _tunedAttention ? "warp per head" : "portable")
              + "; lora MBGMV" + (_segment is null ? " per token" : _segment.TensorCores ? " + MBGMM tiles (tensor cores)" : " + MBGMM tiles")
              + (_join is null ? "" : _join.OnDevice ? ", shrinks beside the GEMMs (CUDA events)" : ", shrinks on a second stream (host-ordered)");
        _qkvGroup = new LoraGroup(0, 3, c.HiddenSize, c.QDim, c.KvDim, c.KvDim, _shape.QkvWidth);
        _oGroup = new LoraGroup(3, 1, c.QDim, c.HiddenSize, 0, 0, c.HiddenSize);
        _gateUpGroup = new LoraGroup(4, 2, c.HiddenSize, c.IntermediateSize, c.IntermediateSize, 0, 2 * c.IntermediateSize);
        _downGroup = new LoraGroup(6, 1, c.IntermediateSize, c.HiddenSize, 0, 0, c.HiddenSize);

        int t = _options.MaxBatchTokens;
        _tokens = Alloc<int>(t);
        _positions = Alloc<int>(t);
        _seqOfToken = Alloc<int>(t);
        _kvPages = Alloc<int>(t);
        _logitRows = Alloc<int>(t);
        _pageListStart = Alloc<int>(t);
        _loraSlots = Alloc<int>(t);
        _decodeTokens = Alloc<int>(t);
        _tiles = Alloc<TokenTile>(t);
        _shrunk = Alloc<float>((long)t * 3 * _options.MaxLoraRank);
        if (_flash is not null)
        {
            // Splits are chosen so that (tokens × heads × splits) is about what fills the GPU (see FlashDecodeKernels.Splits).
            long states = _flash.MaxStates((long)t * c.NumHeads);
            _flashScratch = new FlashScratch(Alloc<float>(states * c.HeadDim), Alloc<float>(states), Alloc<float>(states));
        }
        _argTokens = Alloc<int>(_options.MaxLogitRows);
        _argLogprobs = Alloc<float>(_options.MaxLogitRows);
        _identityRows = Alloc<int>(t);
        _identityRows.SubView(0, t).CopyFromCPU(Enumerable.Range(0, t).ToArray());
        _pageLists = _acc.Allocate1D<int>(Math.Max(1024, 4L * t));
        _residual = Alloc<float>((long)t * c.HiddenSize);
        _qkv = Alloc<float>((long)t * _shape.QkvWidth);
        _gateUp = Alloc<float>((long)t * 2 * c.IntermediateSize);
        _logits = Alloc<float>((long)_options.MaxLogitRows * c.VocabSize);
        _normed = Alloc<Half>((long)t * c.HiddenSize);
        _attnOut = Alloc<Half>((long)t * c.QDim);
        _act = Alloc<Half>((long)t * c.IntermediateSize);
        (_cos, _sin) = RopeTables(c);

        int pages = _options.NumPages > 0 ? _options.NumPages : DefaultPageCount();
        _pool = _acc.Allocate1D<Half>(pages * _shape.PageElements);
        Pages = new PagePool(pages);
        Adapters = new AdapterCache(_acc, Pages, _pool.View, c, _options.MaxLoraRank, _options.MaxResidentAdapters, _options.PinnedAdapterBudget);
        progress?.Report($"page pool: {pages} pages of {_shape.PageElements * 2 / 1024.0:F1} KiB");
    }

    /// <summary>The model's configuration.</summary>
    public LlamaConfig Config { get; }

    /// <summary>Which kernels this runner chose for the device: portable, or GPU-tuned and which of their paths.</summary>
    public string KernelSummary { get; }

    /// <summary>The unified page pool's bookkeeping (one page = one token's K and V in every layer).</summary>
    public PagePool Pages { get; }

    /// <summary>The adapters resident in the pool.</summary>
    internal AdapterCache Adapters { get; }

    /// <summary>fp16 elements in one page.</summary>
    public long PageElements => _shape.PageElements;

    /// <summary>The options the runner was built with.</summary>
    public ModelRunnerOptions Options => _options;

    /// <summary>
    /// Runs one step. Writes the logits of the batch's logit rows, in order, to
    /// <paramref name="logits"/> ([NumLogitRows, vocab]).
    /// </summary>
    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        if (logits.Length < batch.NumLogitRows * Config.VocabSize)
            throw new ArgumentException("The logits span is too small.", nameof(logits));
        if (!Compute(batch))
            return;
        int rows = batch.NumLogitRows;
        _logits.SubView(0, (long)rows * Config.VocabSize).CopyToCPU(_stream, logits[..(rows * Config.VocabSize)]);
        _stream.Synchronize();
    }

    /// <summary>
    /// Runs one step and picks the most likely token of each logit row, with its
    /// log-probability; on a GPU only these come back to the host, not the logits.
    /// </summary>
    public void ForwardGreedy(ForwardBatch batch, Span<int> tokens, Span<float> logprobs)
    {
        int rows = batch.NumLogitRows;
        if (tokens.Length < rows || logprobs.Length < rows)
            throw new ArgumentException("The token and log-probability spans are too small.", nameof(tokens));
        if (!Compute(batch))
            return;
        int vocab = Config.VocabSize;
        if (_tuned is not null)
        {
            _tuned.ArgMax(_stream, rows, _logits, vocab, _argTokens, _argLogprobs);
            _argTokens.SubView(0, rows).CopyToCPU(_stream, tokens[..rows]);
            _argLogprobs.SubView(0, rows).CopyToCPU(_stream, logprobs[..rows]);
            _stream.Synchronize();
            Mark("argmax");
            return;
        }
        if (_hostLogits.Length < rows * vocab)
            _hostLogits = new float[rows * vocab];
        _logits.SubView(0, (long)rows * vocab).CopyToCPU(_stream, _hostLogits.AsSpan(0, rows * vocab));
        _stream.Synchronize();
        for (int r = 0; r < rows; r++)
        {
            var row = _hostLogits.AsSpan(r * vocab, vocab);
            int best = Generation.Sampler.ArgMax(row);
            tokens[r] = best;
            logprobs[r] = Generation.Sampler.LogSoftmaxAt(row, best);
        }
    }

    private float[] _hostLogits = [];
    private readonly Dictionary<string, double> _profile = [];
    private readonly System.Diagnostics.Stopwatch _profileClock = new();
    // "prefill " for steps with prompt tokens, "decode " for steps of decode tokens only.
    private string _profileStep = "";

    /// <summary>
    /// With <see cref="ModelRunnerOptions.Profile"/>: seconds spent per phase of the forward pass
    /// so far, by the kind of step ("prefill rope + kv write", "decode lora qkv"; a step with any
    /// prompt token counts as prefill). The stream is synchronized after each phase, which itself
    /// slows the step.
    /// </summary>
    public IReadOnlyDictionary<string, double> ProfileSnapshot()
    {
        lock (_profile)
            return new Dictionary<string, double>(_profile);
    }

    /// <summary>Adds <paramref name="seconds"/> to a phase of the profile (host work of the engine's step loop).</summary>
    internal void RecordProfile(string phase, double seconds)
    {
        lock (_profile)
            _profile[phase] = _profile.GetValueOrDefault(phase) + seconds;
    }

    private void Mark(string phase)
    {
        if (!_options.Profile)
            return;
        _stream.Synchronize();
        double t = _profileClock.Elapsed.TotalSeconds;
        phase = _profileStep + phase;
        lock (_profile)
            _profile[phase] = _profile.GetValueOrDefault(phase) + t;
        _profileClock.Restart();
    }

    /// <summary>Runs the layers and, if the batch has logit rows, the lm_head into the device logits. False when there was nothing to run.</summary>
    private bool Compute(ForwardBatch batch)
    {
        var c = Config;
        int n = batch.NumTokens;
        if (n == 0)
            return false;
        if (n > _options.MaxBatchTokens)
            throw new ArgumentException($"The batch has {n} tokens; the runner was sized for {_options.MaxBatchTokens}.", nameof(batch));
        if (batch.NumLogitRows > _options.MaxLogitRows)
            throw new ArgumentException($"The batch asks for {batch.NumLogitRows} logit rows; the runner was sized for {_options.MaxLogitRows}.", nameof(batch));
        if (batch.MaxSequenceLength > c.MaxPositionEmbeddings)
            throw new ArgumentException($"A sequence of {batch.MaxSequenceLength} tokens exceeds max_position_embeddings {c.MaxPositionEmbeddings}.", nameof(batch));
        if (batch.MaxLoraRank > _options.MaxLoraRank)
            throw new ArgumentException($"A batch adapter has rank {batch.MaxLoraRank}; the runner was sized for {_options.MaxLoraRank}.", nameof(batch));

        _device.Bind();
        if (_options.Profile)
        {
            _profileStep = batch.NumDecodeTokens == n ? "decode " : "prefill ";
            _profileClock.Restart();
        }
        Upload(batch);
        Mark("upload");
        var s = _stream;
        int h = c.HiddenSize;
        var attnArgs = new AttentionArgs(_qkv, _pool.View, _pageLists.View, _pageListStart, _seqOfToken, _positions, _attnOut);
        int rank = batch.MaxLoraRank;
        var loraArgs = new LoraArgs(_pool.View, Adapters.PageLists, Adapters.Entries, _loraSlots, _shrunk);
        var layout = Adapters.Layout;
        // The step's adapters may still be loading (copies queued at admission or prefetched):
        // the stream waits for theirs, on the device; later ones keep loading beside the step.
        if (rank > 0)
            Adapters.WaitForCopies(s, batch.LoraSlots);

        _embed.Launch(s, n, _tokens, _weights.Embedding, _residual, h);
        Mark("embedding");
        for (int l = 0; l < c.NumLayers; l++)
        {
            var w = _weights.Layers[l];
            Norm(n, _identityRows, w.InputNorm);
            Mark("rmsnorm");
            Projection(batch, loraArgs, layout, _qkvGroup, batch.GroupRank(0), _normed, w.Qkv, _qkv, accumulate: false, l, "gemm qkv", "lora qkv");
            _rope.Launch(s, n, _qkv, _positions, _kvPages, _cos, _sin, _pool.View, _shape, l);
            Mark("rope + kv write");
            if (_prefill is not null)
            {
                // Decode tokens flash-decoded, prefill segments in tiles.
                _flash!.Launch(s, _decodeTokens, batch.NumDecodeTokens, batch.MaxSequenceLength, attnArgs, _flashScratch, MaxSplits, _shape, l);
                _prefill.Launch(s, _tiles, batch.NumPrefillTiles, attnArgs, _shape, l);
            }
            else if (_flash is not null)
                _flash.Launch(s, _identityRows, n, batch.MaxSequenceLength, attnArgs, _flashScratch, MaxSplits, _shape, l);
            else if (_tunedAttention)
                _tuned!.Attention(s, n, attnArgs, _shape, l);
            else
                _attention.Launch(s, n, attnArgs, _shape, l);
            Mark("attention");
            Projection(batch, loraArgs, layout, _oGroup, batch.GroupRank(1), _attnOut, w.O, _residual, accumulate: true, l, "gemm o", "lora o");
            Norm(n, _identityRows, w.PostAttentionNorm);
            Mark("rmsnorm");
            Projection(batch, loraArgs, layout, _gateUpGroup, batch.GroupRank(2), _normed, w.GateUp, _gateUp, accumulate: false, l, "gemm gate_up",
                "lora gate_up");
            _swiGlu.Launch(s, n, _gateUp, _act, c.IntermediateSize);
            Mark("swiglu");
            Projection(batch, loraArgs, layout, _downGroup, batch.GroupRank(3), _act, w.Down, _residual, accumulate: true, l, "gemm down", "lora down");
        }

        int rows = batch.NumLogitRows;
        if (rows == 0)
        {
            s.Synchronize();
            return false;
        }
        Norm(rows, _logitRows, _weights.FinalNorm);
        _gemm.Run(s, _normed, rows, _weights.LmHead, _logits, accumulate: false);
        Mark("lm_head");
        return true;
    }

    private void Norm(int rows, ArrayView<int> rowMap, ArrayView<Half> weight)
    {
        if (_tuned is not null)
            _tuned.RmsNorm(_stream, rows, _residual, rowMap, weight, _normed, Config.HiddenSize, Config.RmsNormEps);
        else
            _norm.Launch(_stream, rows, _residual, rowMap, weight, _normed, Config.HiddenSize, Config.RmsNormEps);
    }

    /// <summary>
    /// One projection of a layer with its LoRA terms: y (+)= x·Wᵀ for the whole batch as one GEMM,
    /// then each token's adapter terms for the modules of <paramref name="group"/>, whose shrink
    /// starts before the GEMM where it can run beside it.
    /// </summary>
    private void Projection(ForwardBatch batch, LoraArgs args, LoraLayout layout, LoraGroup group, int rank, ArrayView<Half> x, GemmWeight weight,
        ArrayView<float> y, bool accumulate, int layer, string gemmPhase, string loraPhase)
    {
        bool ahead = ShrinkAhead(batch, args, layout, group, x, layer, rank);
        _gemm.Run(_stream, x, batch.NumTokens, weight, y, accumulate);
        Mark(gemmPhase);
        Lora(batch, args, layout, group, x, y, layer, rank, ahead);
        Mark(loraPhase);
    }

    /// <summary>
    /// Starts the LoRA shrink of a group before the group's base GEMM, on the side stream once it
    /// has waited for the main stream (x is written and the scratch's last reader has run): the
    /// shrink, latency-bound at decode batch sizes, then runs beside the GEMM instead of after it.
    /// False when the group's LoRA is left whole to <see cref="Lora"/> (no adapter of the batch
    /// adapts it, or a path without the side stream).
    /// </summary>
    private bool ShrinkAhead(ForwardBatch batch, LoraArgs args, LoraLayout layout, LoraGroup group, ArrayView<Half> x, int layer, int rank)
    {
        if (rank == 0 || _side is null || !MbgmvKernels.ExpandVectorizes(layout, group))
            return false;
        _join!.Wait(_side, _stream);
        Shrinks(_side, batch, args, layout, group, x, layer, rank);
        return true;
    }

    /// <summary>MBGMV over the decode tokens; MBGMM over the prefill tiles (A read once per tile).</summary>
    private void Shrinks(AcceleratorStream stream, ForwardBatch batch, LoraArgs args, LoraLayout layout, LoraGroup group, ArrayView<Half> x, int layer, int rank)
    {
        var (list, count) = DecodeList(batch);
        _mbgmv!.LoraShrink(stream, list, count, args, layout, group, x, layer, rank);
        if (_segment is not null)
            _segment.Shrink(stream, _tiles, batch.NumPrefillTiles, args, layout, group, x, layer, rank);
    }

    /// <summary>
    /// The group's LoRA terms added to y after its base GEMM: the expands of a shrink started by
    /// <see cref="ShrinkAhead"/> (once the main stream has waited for it), or shrink and expand here.
    /// </summary>
    private void Lora(ForwardBatch batch, LoraArgs args, LoraLayout layout, LoraGroup group, ArrayView<Half> x, ArrayView<float> y, int layer, int rank,
        bool shrunkAhead)
    {
        int n = batch.NumTokens;
        if (rank == 0)
            return;
        if (_tuned is null)
        {
            _lora.Apply(_stream, n, args, layout, group, x, y, layer, rank);
            return;
        }
        if (!MbgmvKernels.ExpandVectorizes(layout, group))
        {
            _mbgmv!.LoraShrink(_stream, _identityRows, n, args, layout, group, x, layer, rank);
            _lora.Expand(_stream, n, args, layout, group, y, layer, rank);
            return;
        }
        if (shrunkAhead)
            _join!.Wait(_stream, _side!);
        else
            Shrinks(_stream, batch, args, layout, group, x, layer, rank);
        // MBGMV over the decode tokens; MBGMM over the prefill tiles (Bᵀ read once per tile).
        var (list, count) = DecodeList(batch);
        _mbgmv!.LoraExpand(_stream, list, count, args, layout, group, y, layer, rank);
        if (_segment is not null)
            _segment.Expand(_stream, _tiles, batch.NumPrefillTiles, args, layout, group, y, layer, rank);
    }

    /// <summary>The tokens MBGMV serves: the decode tokens when prefill goes to the tile kernels, else every token.</summary>
    private (ArrayView<int> List, int Count) DecodeList(ForwardBatch batch) =>
        _segment is not null ? (_decodeTokens, batch.NumDecodeTokens) : (_identityRows, batch.NumTokens);

    private void Upload(ForwardBatch batch)
    {
        var s = _stream;
        int n = batch.NumTokens;
        _tokens.SubView(0, n).CopyFromCPU(s, batch.Tokens);
        _positions.SubView(0, n).CopyFromCPU(s, batch.Positions);
        _seqOfToken.SubView(0, n).CopyFromCPU(s, batch.SeqOfToken);
        _kvPages.SubView(0, n).CopyFromCPU(s, batch.KvPages);
        _pageListStart.SubView(0, batch.NumSequences).CopyFromCPU(s, batch.PageListStart);
        if (batch.MaxLoraRank > 0)
            _loraSlots.SubView(0, n).CopyFromCPU(s, batch.LoraSlots);
        if (batch.NumLogitRows > 0)
            _logitRows.SubView(0, batch.NumLogitRows).CopyFromCPU(s, batch.LogitRows);
        if (_prefill is not null || _segment is not null)
        {
            // Only the tile kernels' path reads the decode list and the prefill tiles.
            if (batch.NumDecodeTokens > 0)
                _decodeTokens.SubView(0, batch.NumDecodeTokens).CopyFromCPU(s, batch.DecodeTokens);
            if (batch.NumPrefillTiles > 0)
                _tiles.SubView(0, batch.NumPrefillTiles).CopyFromCPU(s, batch.PrefillTiles);
        }
        if (_pageLists.Length < batch.PageListLength)
        {
            s.Synchronize();
            _pageLists.Dispose();
            _pageLists = _acc.Allocate1D<int>(Math.Max(batch.PageListLength, 2 * _pageLists.Length));
        }
        ((ArrayView<int>)_pageLists.View).SubView(0, batch.PageListLength).CopyFromCPU(s, batch.PageLists);
    }

    private (ArrayView<float> Cos, ArrayView<float> Sin) RopeTables(LlamaConfig c)
    {
        // As Hugging Face computes them: inv_freq and position × inv_freq in fp32, then cos/sin.
        int half = c.HeadDim / 2;
        var cos = new float[(long)c.MaxPositionEmbeddings * half];
        var sin = new float[cos.Length];
        for (int i = 0; i < half; i++)
        {
            float invFreq = 1f / MathF.Pow((float)c.RopeTheta, 2f * i / c.HeadDim);
            for (int p = 0; p < c.MaxPositionEmbeddings; p++)
            {
                float angle = p * invFreq;
                cos[(long)p * half + i] = (float)Math.Cos(angle);
                sin[(long)p * half + i] = (float)Math.Sin(angle);
            }
        }
        var dCos = Alloc<float>(cos.Length);
        var dSin = Alloc<float>(sin.Length);
        dCos.CopyFromCPU(cos);
        dSin.CopyFromCPU(sin);
        return (dCos, dSin);
    }

    private int DefaultPageCount()
    {
        const int cpuDefault = 4096;
        if (!_device.IsCuda)
            return cpuDefault;
        long used = _weights.Bytes + _owned.OfType<MemoryBuffer>().Sum(b => b.LengthInBytes);
        long free = (long)((_acc.MemorySize - used) * _options.PoolMemoryFraction);
        return (int)Math.Clamp(free / (_shape.PageElements * 2), 1, int.MaxValue);
    }

    private ArrayView<T> Alloc<T>(long length) where T : unmanaged
    {
        var buffer = _acc.Allocate1D<T>(Math.Max(1, length));
        _owned.Add(buffer);
        return buffer.View;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _device.Bind();
        Adapters.Dispose();
        _pool.Dispose();
        _pageLists.Dispose();
        for (int i = _owned.Count - 1; i >= 0; i--)
            _owned[i].Dispose();
        _owned.Clear();
    }
}
