using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using SLoRA.Engine.Execution;
using SLoRA.Engine.Generation;
using SLoRA.Engine.Memory;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Scheduling;
using SLoRA.Engine.Tokenization;

namespace SLoRA.Engine.Serving;

/// <summary>
/// The serving engine of one device. One dedicated thread owns the accelerator and runs the step
/// loop (schedule → forward → sample and stream); callers only enqueue requests and read their
/// token streams, from any thread.
/// </summary>
public sealed class LlmEngine : IAsyncDisposable
{
    private readonly EngineOptions _options;
    private readonly ConcurrentQueue<ActiveRequest> _inbox = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Dictionary<Sequence, ActiveRequest> _active = [];
    private readonly HashSet<int> _eosIds = [];
    private Thread? _thread;
    private volatile bool _stopping;
    private long _nextId;
    private int _queued;
    private ulong _seedCounter = (ulong)Environment.TickCount64;
    private EngineStats _stats = new(0, 0, 0, 0, 0, 0, 0, 0, 0);

    private ComputeDevice? _device;
    private ModelRunner? _runner;
    private Scheduler _scheduler = null!;

    private LlmEngine(EngineOptions options) => _options = options;

    /// <summary>The base model's configuration.</summary>
    public LlamaConfig Config { get; private set; } = null!;

    /// <summary>The model's tokenizer; null for a model folder without tokenizer files (token-id prompts only).</summary>
    public TextTokenizer? Tokenizer { get; private set; }

    /// <summary>A description of the device, for logs.</summary>
    public string DeviceDescription { get; private set; } = "";

    /// <summary>Starts the engine thread, loads the model on it and waits until it is ready.</summary>
    public static async Task<LlmEngine> StartAsync(ModelSource source, EngineOptions? options = null, IProgress<string>? progress = null)
    {
        var engine = new LlmEngine(options ?? new EngineOptions());
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        engine._thread = new Thread(() => engine.Run(source, progress, ready)) { IsBackground = true, Name = "slora-engine" };
        engine._thread.Start();
        await ready.Task.ConfigureAwait(false);
        return engine;
    }

    /// <summary>A snapshot of queue depths, page use and counters.</summary>
    public EngineStats GetStats() => Volatile.Read(ref _stats);

    /// <summary>
    /// Submits a request and returns its token stream. Bad input throws <see cref="ArgumentException"/>
    /// here, before anything is queued; a full queue throws <see cref="EngineOverloadedException"/>.
    /// Cancelling <paramref name="cancellationToken"/>, or leaving the stream early, cancels the
    /// request and frees its pages.
    /// </summary>
    public IAsyncEnumerable<TokenChunk> Generate(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        var prompt = ResolvePrompt(request);
        var sampling = request.Sampling;
        sampling.Validate(Math.Max(1, Config.MaxPositionEmbeddings - prompt.Length));
        if (sampling.StopStrings.Count > 0 && Tokenizer is null)
            throw new ArgumentException("stop strings need a tokenizer; this model has none.", "stop");
        int worstCase = prompt.Length + sampling.MaxNewTokens;
        if (worstCase > _runner!.Pages.Capacity)
            throw new ArgumentException($"prompt + max_new_tokens = {worstCase} tokens exceeds the KV capacity of {_runner.Pages.Capacity} tokens.", "max_new_tokens");
        if (Interlocked.Increment(ref _queued) > _options.MaxWaitingRequests)
        {
            Interlocked.Decrement(ref _queued);
            throw new EngineOverloadedException($"The engine has {_options.MaxWaitingRequests} requests waiting; retry later.");
        }

        var sequence = new Sequence(Interlocked.Increment(ref _nextId), prompt, sampling);
        ulong seed = sampling.Seed ?? Interlocked.Add(ref _seedCounter, 0x9E3779B97F4A7C15UL);
        var active = new ActiveRequest(sequence, Tokenizer, seed);
        _inbox.Enqueue(active);
        _wake.Release();
        return Read(active, cancellationToken);
    }

    private int[] ResolvePrompt(GenerationRequest request)
    {
        int[] prompt;
        if (request.PromptTokens is { } ids)
        {
            prompt = [.. ids];
            foreach (int id in prompt)
            {
                if ((uint)id >= (uint)Config.VocabSize)
                    throw new ArgumentException($"prompt token id {id} is outside the vocabulary [0, {Config.VocabSize}).", "prompt");
            }
        }
        else if (request.Prompt is { } text)
        {
            if (Tokenizer is null)
                throw new ArgumentException("this model has no tokenizer; give the prompt as token ids.", "prompt");
            prompt = [.. Tokenizer.Encode(text, addBos: Tokenizer.BosTokenId is not null)];
        }
        else
        {
            throw new ArgumentException("a prompt is required (text or token ids).", "prompt");
        }
        if (prompt.Length == 0)
            throw new ArgumentException("the prompt is empty.", "prompt");
        if (prompt.Length >= Config.MaxPositionEmbeddings)
            throw new ArgumentException($"the prompt has {prompt.Length} tokens; the model's context (max_position_embeddings) is {Config.MaxPositionEmbeddings}, and at least one new token must fit.", "prompt");
        return prompt;
    }

    private async IAsyncEnumerable<TokenChunk> Read(ActiveRequest active, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(() => Cancel(active));
        try
        {
            await foreach (var chunk in active.Channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return chunk;
        }
        finally
        {
            if (!active.IsFinished)
                Cancel(active);
        }
    }

    private void Cancel(ActiveRequest active)
    {
        active.RequestCancel();
        _wake.Release();
    }

    private void Run(ModelSource source, IProgress<string>? progress, TaskCompletionSource ready)
    {
        try
        {
            _device = ComputeDevice.Create(_options.Accelerator, _options.DeviceIndex);
            DeviceDescription = _device.Description;
            progress?.Report($"device: {DeviceDescription}");
            var (weights, tokenizer) = source.Load(progress);
            Config = weights.Config;
            Tokenizer = tokenizer;
            foreach (int id in Config.EosTokenIds)
                _eosIds.Add(id);
            if (tokenizer?.EosTokenId is { } eos)
                _eosIds.Add(eos);
            _runner = new ModelRunner(_device, weights, _options.Runner, progress);
            _scheduler = new Scheduler(_options.Scheduler with
            {
                MaxBatchTokens = Math.Min(_options.Scheduler.MaxBatchTokens, _options.Runner.MaxBatchTokens),
                MaxBatchSequences = Math.Min(_options.Scheduler.MaxBatchSequences, _options.Runner.MaxLogitRows),
            });
        }
        catch (Exception e)
        {
            _runner?.Dispose();
            _device?.Dispose();
            ready.SetException(e);
            return;
        }
        ready.SetResult();
        try
        {
            Loop();
        }
        finally
        {
            foreach (var active in _active.Values.ToList())
                Finish(active, FinishReason.Cancelled, -1, "");
            while (_inbox.TryDequeue(out var queued))
                queued.Channel.Writer.TryComplete(new ObjectDisposedException(nameof(LlmEngine)));
            _runner.Dispose();
            _device.Dispose();
        }
    }

    private void Loop()
    {
        var runner = _runner!;
        var batch = new ForwardBatch(_options.Runner.MaxBatchTokens);
        var logits = new float[_options.Runner.MaxLogitRows * Config.VocabSize];
        var tokens = new int[_options.Runner.MaxBatchTokens];
        var sampler = new Sampler();
        long steps = 0, generated = 0;
        int lastBatch = 0;

        while (!_stopping)
        {
            while (_inbox.TryDequeue(out var incoming))
            {
                _active.Add(incoming.Sequence, incoming);
                _scheduler.Add(incoming.Sequence);
            }
            foreach (var active in _active.Values)
            {
                if (active.CancelRequested)
                    _cancelled.Add(active);
            }
            foreach (var active in _cancelled)
                Finish(active, FinishReason.Cancelled, -1, "");
            _cancelled.Clear();

            IReadOnlyList<ScheduledSequence> plan = _active.Count == 0 ? Array.Empty<ScheduledSequence>() : _scheduler.Schedule(runner.Pages.FreeCount);
            PublishStats(steps, generated, lastBatch);
            if (plan.Count == 0)
            {
                _wake.Wait(_active.Count == 0 ? 200 : 5);
                continue;
            }

            foreach (var s in _scheduler.Admitted)
            {
                Interlocked.Decrement(ref _queued);
                s.Pages = new int[s.WorstCaseLength];
                if (!runner.Pages.TryAllocate(PageKind.KvCache, s.Pages))
                    throw new InvalidOperationException("The scheduler admitted a sequence whose pages are not free.");
            }

            batch.Clear();
            foreach (var (s, n) in plan)
            {
                for (int i = 0; i < n; i++)
                    tokens[i] = s.TokenAt(s.NumComputed + i);
                bool completes = s.NumComputed + n == s.Length;
                batch.AddSequence(s.Pages.AsSpan(0, s.NumComputed + n), tokens.AsSpan(0, n),
                    completes ? LogitSelection.Last : LogitSelection.None);
            }

            try
            {
                runner.Forward(batch, logits);
            }
            catch (Exception e)
            {
                foreach (var (s, _) in plan.ToList())
                    Fail(_active[s], e);
                continue;
            }
            steps++;
            lastBatch = plan.Count;

            int row = 0;
            foreach (var (s, n) in plan)
            {
                s.NumComputed += n;
                if (s.NumComputed < s.Length)
                    continue;
                var rowLogits = logits.AsSpan(row++ * Config.VocabSize, Config.VocabSize);
                var active = _active[s];
                int token = sampler.Sample(rowLogits, s.Sampling, ref active.Random, out float logprob);
                generated++;
                OnToken(active, token, logprob);
            }
            foreach (var active in _finishedThisStep)
                Release(active);
            _finishedThisStep.Clear();
        }
    }

    private readonly List<ActiveRequest> _cancelled = [];
    private readonly List<ActiveRequest> _finishedThisStep = [];

    private void OnToken(ActiveRequest active, int token, float logprob)
    {
        var s = active.Sequence;
        var p = s.Sampling;
        s.Append(token);
        float? lp = p.Logprobs ? logprob : null;
        bool stopToken = (!p.IgnoreEos && _eosIds.Contains(token)) || p.StopTokenIds.Contains(token);
        if (stopToken)
        {
            Complete(active, new TokenChunk(active.FlushText(), token, lp, FinishReason.Stop));
            return;
        }
        var (text, stopped) = active.PushText(token);
        if (stopped)
            Complete(active, new TokenChunk(text, token, lp, FinishReason.Stop));
        else if (s.Output.Count >= p.MaxNewTokens || s.Length >= Config.MaxPositionEmbeddings)
            Complete(active, new TokenChunk(text + active.FlushText(), token, lp, FinishReason.Length));
        else
            active.Channel.Writer.TryWrite(new TokenChunk(text, token, lp));
    }

    private void Complete(ActiveRequest active, TokenChunk last)
    {
        active.Channel.Writer.TryWrite(last);
        active.Channel.Writer.TryComplete();
        _scheduler.Finish(active.Sequence);
        _finishedThisStep.Add(active);
    }

    private void Finish(ActiveRequest active, FinishReason reason, int token, string text)
    {
        if (active.Sequence.State == SequenceState.Waiting)
            Interlocked.Decrement(ref _queued);
        if (!active.IsFinished)
            _scheduler.Finish(active.Sequence);
        active.Channel.Writer.TryWrite(new TokenChunk(text, token, null, reason));
        active.Channel.Writer.TryComplete();
        Release(active);
    }

    private void Fail(ActiveRequest active, Exception error)
    {
        if (!active.IsFinished)
            _scheduler.Finish(active.Sequence);
        active.Channel.Writer.TryComplete(error);
        Release(active);
    }

    private void Release(ActiveRequest active)
    {
        if (active.Sequence.Pages.Length > 0)
        {
            _runner!.Pages.Free(active.Sequence.Pages);
            active.Sequence.Pages = [];
        }
        _active.Remove(active.Sequence);
    }

    private void PublishStats(long steps, long generated, int lastBatch)
    {
        var pages = _runner!.Pages;
        Volatile.Write(ref _stats, new EngineStats(_scheduler.Running.Count, _scheduler.WaitingCount, pages.Capacity, pages.FreeCount,
            pages.CountOf(PageKind.KvCache), pages.CountOf(PageKind.Adapter), steps, generated, lastBatch));
    }

    /// <summary>Stops the engine thread; unfinished requests end as cancelled.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping)
            return;
        _stopping = true;
        _wake.Release();
        if (_thread is not null)
            await Task.Run(() => _thread.Join()).ConfigureAwait(false);
        _wake.Dispose();
    }
}
