using System.Diagnostics;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using SLoRA.Engine.Adapters;
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
    private readonly ConcurrentDictionary<string, PackedAdapter> _adapters = new();
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly List<ScheduledSequence> _stepList = [];
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly EngineCounters _counters = new();
    private Thread? _thread;
    private volatile bool _stopping;
    private long _nextId;
    private int _queued;
    private ulong _seedCounter = (ulong)Environment.TickCount64;
    private EngineStats _stats = new(0, 0, 0, 0, 0, 0, 0, 0, 0);

    private ComputeDevice? _device;
    private ModelRunner? _runner;
    private Scheduler _scheduler = null!;
    private RequestValidator _validator = null!;

    private LlmEngine(EngineOptions options) => _options = options;

    /// <summary>The base model's configuration.</summary>
    public LlamaConfig Config { get; private set; } = null!;

    /// <summary>The model's tokenizer; null for a model folder without tokenizer files (token-id prompts only).</summary>
    public TextTokenizer? Tokenizer { get; private set; }

    /// <summary>A description of the device, for logs.</summary>
    public string DeviceDescription { get; private set; } = "";

    /// <summary>Which kernels the runner chose on this device (<see cref="ModelRunner.KernelSummary"/>).</summary>
    public string Kernels { get; private set; } = "";

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

    /// <summary>Ids of the registered adapters.</summary>
    public IReadOnlyCollection<string> AdapterIds => (IReadOnlyCollection<string>)_adapters.Keys;

    /// <summary>Pool pages the adapter takes on the device (0 when not registered).</summary>
    public int AdapterPages(string adapterId) => _adapters.TryGetValue(adapterId, out var a) ? a.NumPages : 0;

    /// <summary>Whether an adapter id is registered.</summary>
    public bool HasAdapter(string adapterId) => _adapters.ContainsKey(adapterId);

    /// <summary>
    /// Registers (or replaces with a new version) an adapter held in host memory. It is copied to
    /// device pages when a batch first needs it. Throws <see cref="ArgumentException"/> when the
    /// adapter does not fit this engine (rank above the maximum, shapes of another model);
    /// nothing registered or running is affected then.
    /// </summary>
    public Task RegisterAdapterAsync(LoraAdapter adapter)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        int maxRank = _options.Runner.MaxLoraRank;
        foreach (var m in adapter.Modules)
        {
            if (m.Rank > maxRank)
                throw new ArgumentException($"adapter '{adapter.Id}': {m.Module} in layer {m.Layer} has rank {m.Rank}, above this engine's maximum {maxRank}.", nameof(adapter));
            var shape = WeightNames.ProjectionShape(Config, m.Module);
            if (m.Layer >= Config.NumLayers || m.OutFeatures != shape[0] || m.InFeatures != shape[1])
                throw new ArgumentException($"adapter '{adapter.Id}': {m.Module} in layer {m.Layer} is [{m.OutFeatures}, {m.InFeatures}], the base model's is [{shape[0]}, {shape[1]}] with {Config.NumLayers} layers.", nameof(adapter));
        }
        var packed = PackedAdapter.Pack(adapter, Config.NumLayers, 2 * Config.KvDim);
        return RunOnEngineThread(() =>
        {
            if (_adapters.TryGetValue(adapter.Id, out var previous))
                RetireAdapter(previous);
            _runner!.Adapters.Register(packed);
            _adapters[adapter.Id] = packed;
        });
    }

    /// <summary>
    /// Unregisters an adapter: new requests for it are refused, waiting ones end with an error,
    /// running ones finish, and its pages and host memory are freed as soon as none uses it.
    /// False when it was not registered.
    /// </summary>
    public async Task<bool> UnregisterAdapterAsync(string adapterId)
    {
        bool found = false;
        await RunOnEngineThread(() =>
        {
            if (_adapters.TryRemove(adapterId, out var packed))
            {
                found = true;
                RetireAdapter(packed);
            }
        }).ConfigureAwait(false);
        return found;
    }

    private void RetireAdapter(PackedAdapter packed)
    {
        foreach (var active in _active.Values.Where(a => a.Adapter == packed && a.Sequence.State == SequenceState.Waiting).ToList())
            Fail(active, new UnknownAdapterException(packed.Id));
        _runner!.Adapters.Unregister(packed.Key);
    }

    private Task RunOnEngineThread(Action action)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _commands.Enqueue(() =>
        {
            try
            {
                action();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        _wake.Release();
        return done.Task;
    }

    /// <summary>
    /// Takes every adapter that no running request uses off the device (they stay registered and
    /// load again when a request needs them): for benchmarks that measure loading from cold.
    /// </summary>
    internal Task EvictIdleAdaptersAsync() => RunOnEngineThread(() => _runner!.Adapters.EvictIdle());

    /// <summary>Seconds per forward-pass phase, when the runner was built with profiling on.</summary>
    public IReadOnlyDictionary<string, double> GetProfile() => _runner?.ProfileSnapshot() ?? new Dictionary<string, double>();

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
        PackedAdapter? adapter = null;
        if (request.AdapterId is { } adapterId && !_adapters.TryGetValue(adapterId, out adapter))
            throw new UnknownAdapterException(adapterId);
        var prompt = _validator.Validate(request, adapter?.NumPages ?? 0);
        var sampling = request.Sampling;
        if (Interlocked.Increment(ref _queued) > _options.MaxWaitingRequests)
        {
            Interlocked.Decrement(ref _queued);
            throw new EngineOverloadedException($"The engine has {_options.MaxWaitingRequests} requests waiting; retry later.");
        }

        double now = _clock.Elapsed.TotalSeconds;
        var sequence = new Sequence(Interlocked.Increment(ref _nextId), prompt, sampling, adapter?.Key)
        {
            ArrivalTime = now,
            FirstTokenDeadline = request.FirstTokenDeadline is { } deadline ? now + deadline.TotalSeconds : null,
        };
        ulong seed = sampling.Seed ?? Interlocked.Add(ref _seedCounter, 0x9E3779B97F4A7C15UL);
        var active = new ActiveRequest(sequence, Tokenizer, seed, adapter);
        _inbox.Enqueue(active);
        _wake.Release();
        return Read(active, cancellationToken);
    }

    /// <summary>
    /// Tokenizes a text prompt as the engine does for <see cref="Generate"/> (BOS when the model's
    /// tokenizer adds one) and checks it: a tokenizer with more tokens than the model embeds must be
    /// a clear error, never an out-of-range read in a kernel. Throws <see cref="ArgumentException"/>.
    /// </summary>
    public int[] TokenizePrompt(string text) => _validator.TokenizePrompt(text);

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
            _device = ComputeDevice.Create(_options.Accelerator, _options.DeviceIndex, _options.CpuWarpSize);
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
            Kernels = _runner.KernelSummary;
            progress?.Report($"kernels: {Kernels}");
            _validator = new RequestValidator(Config, Tokenizer, _runner.Pages.Capacity);
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

    /// <summary>The step loop: take what arrived, schedule, run the batch, hand out the tokens.</summary>
    private void Loop()
    {
        var runner = _runner!;
        var buffers = new StepBuffers(_options.Runner, Config.VocabSize);
        while (!_stopping)
        {
            TakeCommandsAndRequests();
            var plan = Schedule(runner);
            PublishStats();
            if (plan.Count == 0)
            {
                _wake.Wait(_active.Count == 0 ? 200 : 5);
                continue;
            }
            long mark = Stopwatch.GetTimestamp();
            Admit(runner);
            mark = HostPhase(runner, "admit (adapter loads queued)", mark);
            BuildBatch(runner, plan, buffers);
            Prefetch(runner);
            mark = HostPhase(runner, "build batch + prefetch", mark);
            if (!Run(runner, buffers, out bool greedy))
                continue;
            mark = Stopwatch.GetTimestamp();
            Postprocess(buffers, greedy);
            runner.Adapters.EvictPending();
            HostPhase(runner, "postprocess", mark);
        }
    }

    /// <summary>With profiling on, books the host time since <paramref name="since"/> to <paramref name="phase"/>; returns now.</summary>
    private long HostPhase(ModelRunner runner, string phase, long since)
    {
        long now = Stopwatch.GetTimestamp();
        if (_options.Runner.Profile)
            runner.RecordProfile("host " + phase, Stopwatch.GetElapsedTime(since, now).TotalSeconds);
        return now;
    }

    private void TakeCommandsAndRequests()
    {
        while (_commands.TryDequeue(out var command))
            command();
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
    }

    private IReadOnlyList<ScheduledSequence> Schedule(ModelRunner runner)
    {
        if (_active.Count == 0)
            return Array.Empty<ScheduledSequence>();
        var cache = runner.Adapters;
        var plan = _scheduler.Schedule(runner.Pages.FreeCount + cache.EvictablePages, cache,
            new SchedulerClock(_clock.Elapsed.TotalSeconds, _counters.SecondsPerToken));
        foreach (var s in _scheduler.Aborted)
        {
            Interlocked.Decrement(ref _queued);
            Finish(_active[s], FinishReason.DeadlineExceeded, -1, "");
        }
        return plan;
    }

    /// <summary>The step's batch: each still-running sequence's new tokens, pages and adapter slot.</summary>
    private void BuildBatch(ModelRunner runner, IReadOnlyList<ScheduledSequence> plan, StepBuffers buffers)
    {
        _stepList.Clear();
        foreach (var item in plan)
        {
            if (item.Sequence.State == SequenceState.Running)
                _stepList.Add(item);
        }
        var batch = buffers.Batch;
        batch.Clear();
        _stepAdapters.Clear();
        foreach (var (s, n) in _stepList)
        {
            var adapter = _active[s].Adapter;
            int slot = adapter is null ? -1 : runner.Adapters.SlotOf(adapter.Key);
            if (adapter is not null)
                _stepAdapters.Add(adapter.Key);
            for (int i = 0; i < n; i++)
                buffers.Tokens[i] = s.TokenAt(s.NumComputed + i);
            bool completes = s.NumComputed + n == s.Length;
            batch.AddSequence(s.Pages.AsSpan(0, s.NumComputed + n), buffers.Tokens.AsSpan(0, n),
                completes ? LogitSelection.Last : LogitSelection.None, slot, adapter?.MaxRank ?? 0, adapter?.GroupMaxRanks);
        }
    }

    /// <summary>Runs the forward pass; on failure, fails the step's requests and returns false.</summary>
    private bool Run(ModelRunner runner, StepBuffers buffers, out bool greedy)
    {
        greedy = true;
        foreach (var (s, _) in _stepList)
            greedy &= s.Sampling.Temperature == 0;
        double started = _clock.Elapsed.TotalSeconds;
        try
        {
            // All-greedy steps take only the chosen tokens back from the device, not the logits.
            if (greedy)
                runner.ForwardGreedy(buffers.Batch, buffers.GreedyTokens, buffers.GreedyLogprobs);
            else
                runner.Forward(buffers.Batch, buffers.Logits);
        }
        catch (Exception e)
        {
            foreach (var (s, _) in _stepList.ToList())
                Fail(_active[s], e);
            return false;
        }
        _counters.RecordStep(_clock.Elapsed.TotalSeconds - started, buffers.Batch.NumTokens, _stepList.Count,
            _stepAdapters.Count, buffers.Batch.PageListLength);
        return true;
    }

    /// <summary>Advances every sequence of the step; those whose tokens are all in the cache get their next token.</summary>
    private void Postprocess(StepBuffers buffers, bool greedy)
    {
        int row = 0;
        foreach (var (s, n) in _stepList)
        {
            s.NumComputed += n;
            if (s.NumComputed < s.Length)
                continue;
            var active = _active[s];
            int token;
            float logprob;
            if (greedy)
            {
                token = buffers.GreedyTokens[row];
                logprob = buffers.GreedyLogprobs[row];
            }
            else
            {
                token = buffers.Sampler.Sample(buffers.Logits.AsSpan(row * Config.VocabSize, Config.VocabSize), s.Sampling, ref active.Random, out logprob);
            }
            row++;
            _counters.RecordToken();
            OnToken(active, token, logprob);
        }
        foreach (var active in _finishedThisStep)
            Release(active);
        _finishedThisStep.Clear();
    }

    private readonly HashSet<string> _stepAdapters = [];

    /// <summary>Starts loading the adapters of the next waiting requests while this step computes.</summary>
    private void Prefetch(ModelRunner runner)
    {
        const int lookahead = 4;
        int reserve = 0;
        foreach (var s in _scheduler.NextWaiting(lookahead))
        {
            reserve += s.WorstCaseLength;
            if (_active[s].Adapter is { } a && !runner.Adapters.TryPrefetch(a, reserve))
                break;
        }
    }

    /// <summary>
    /// Gives the sequences admitted this step their adapter (pinned on the device, loaded on the
    /// copy stream if needed) and their worst-case KV pages. Adapters already resident are pinned
    /// first, so that loading another cannot evict them.
    /// </summary>
    private void Admit(ModelRunner runner)
    {
        var cache = runner.Adapters;
        foreach (var s in _scheduler.Admitted)
        {
            Interlocked.Decrement(ref _queued);
            var active = _active[s];
            if (active.Adapter is { } a && cache.IsResident(a.Key))
            {
                cache.TryLoad(a);
                cache.AddUser(a.Key, +1);
                active.HoldsAdapter = true;
            }
        }
        foreach (var s in _scheduler.Admitted)
        {
            var active = _active[s];
            if (active.Adapter is { } a && !active.HoldsAdapter)
            {
                if (!cache.TryLoad(a))
                {
                    Fail(active, new InvalidOperationException($"Adapter '{a.Id}' could not be loaded: the page pool is full."));
                    continue;
                }
                cache.AddUser(a.Key, +1);
                active.HoldsAdapter = true;
            }
            var pages = new int[s.WorstCaseLength];
            if (!cache.MakeRoom(pages.Length) || !runner.Pages.TryAllocate(PageKind.KvCache, pages))
            {
                Fail(active, new InvalidOperationException("The page pool cannot hold this request's KV cache now."));
                continue;
            }
            s.Pages = pages;
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
        if (active.Sequence.State == SequenceState.Waiting)
            Interlocked.Decrement(ref _queued);
        if (!active.IsFinished)
            _scheduler.Finish(active.Sequence);
        active.Channel.Writer.TryComplete(error);
        Release(active);
    }

    private void Release(ActiveRequest active)
    {
        if (active.HoldsAdapter)
        {
            _runner!.Adapters.AddUser(active.Adapter!.Key, -1);
            active.HoldsAdapter = false;
        }
        if (active.Sequence.Pages.Length > 0)
        {
            _runner!.Pages.Free(active.Sequence.Pages);
            active.Sequence.Pages = [];
        }
        _active.Remove(active.Sequence);
    }

    private void PublishStats()
    {
        var pages = _runner!.Pages;
        var c = _counters;
        Volatile.Write(ref _stats, new EngineStats(_scheduler.Running.Count, _scheduler.WaitingCount, pages.Capacity, pages.FreeCount,
            pages.CountOf(PageKind.KvCache), pages.CountOf(PageKind.Adapter), c.Steps, c.GeneratedTokens, c.LastBatchSize,
            _adapters.Count, _runner.Adapters.ResidentCount, c.LastBatchAdapters)
        {
            DecodeSteps = c.DecodeSteps,
            DecodeSeconds = c.DecodeSeconds,
            DecodeContextTokens = c.DecodeContextTokens,
            AdapterPrefetches = _runner.Adapters.Prefetches,
            TokensPerSecond = c.TokenRate(_clock.Elapsed.TotalSeconds),
        });
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
