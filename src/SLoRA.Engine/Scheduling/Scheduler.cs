namespace SLoRA.Engine.Scheduling;

/// <summary>One sequence's share of a step: how many of its tokens are computed.</summary>
public readonly record struct ScheduledSequence(Sequence Sequence, int NumTokens);

/// <summary>
/// Iteration-level continuous batching with S-LoRA's policies. Each step: every running
/// sequence that finished its prompt decodes one token; sequences in the middle of a prompt
/// continue it (chunked prefill); waiting sequences are admitted while the token budget, the
/// batch cap and the pages allow. Admission reserves KV pages for the worst case (prompt + max
/// new tokens), as S-LoRA does, so a running sequence never runs out of pages and is never
/// preempted. Policies (see <see cref="SchedulerOptions"/>): adapter clustering, early abort,
/// fairness by virtual token counters. Pure: no device, no clock; the engine hands it the free
/// pages, the adapter residency and the time.
/// </summary>
public sealed class Scheduler
{
    private const string BaseModelKey = "";

    private readonly LinkedList<Sequence> _waiting = new();
    private readonly List<Sequence> _running = [];
    private readonly List<ScheduledSequence> _step = [];
    private readonly List<Sequence> _admitted = [];
    private readonly List<Sequence> _aborted = [];
    private readonly List<LinkedListNode<Sequence>> _candidates = [];
    private readonly HashSet<string> _chargedAdapters = [];
    private readonly HashSet<string> _batchAdapters = [];
    private readonly Dictionary<string, double> _counters = [];
    private readonly Dictionary<string, int> _activeCount = [];

    /// <summary>Creates a scheduler.</summary>
    public Scheduler(SchedulerOptions options)
    {
        options.Validate();
        Options = options;
    }

    /// <summary>The limits and policies in force.</summary>
    public SchedulerOptions Options { get; }

    /// <summary>Sequences waiting for admission.</summary>
    public int WaitingCount => _waiting.Count;

    /// <summary>Admitted sequences.</summary>
    public IReadOnlyList<Sequence> Running => _running;

    /// <summary>Sequences admitted by the last <see cref="Schedule"/>; the caller gives each its pages.</summary>
    public IReadOnlyList<Sequence> Admitted => _admitted;

    /// <summary>Waiting sequences the last <see cref="Schedule"/> dropped by early abort; the caller ends them.</summary>
    public IReadOnlyList<Sequence> Aborted => _aborted;

    /// <summary>An adapter's virtual token counter (fairness).</summary>
    public double CounterOf(string? adapterKey) => _counters.GetValueOrDefault(adapterKey ?? BaseModelKey);

    /// <summary>Queues a new sequence.</summary>
    public void Add(Sequence sequence)
    {
        string key = sequence.AdapterKey ?? BaseModelKey;
        if (_activeCount.GetValueOrDefault(key) == 0 && Options.Fairness == FairnessPolicy.VirtualTokenCounter)
        {
            // An adapter returning from idle starts level with the least-served active one, so
            // it cannot claim credit for the time it sent nothing.
            double floor = _activeCount.Where(kv => kv.Value > 0).Select(kv => _counters.GetValueOrDefault(kv.Key)).DefaultIfEmpty(0).Min();
            _counters[key] = Math.Max(_counters.GetValueOrDefault(key), floor);
        }
        _activeCount[key] = _activeCount.GetValueOrDefault(key) + 1;
        _waiting.AddLast(sequence);
    }

    /// <summary>
    /// Plans the next step given <paramref name="freePages"/> pages that are free or could be
    /// freed (idle adapters). The returned list is reused by the next call.
    /// </summary>
    public IReadOnlyList<ScheduledSequence> Schedule(int freePages, IAdapterPages? adapters = null, SchedulerClock clock = default)
    {
        _step.Clear();
        _admitted.Clear();
        _aborted.Clear();
        _chargedAdapters.Clear();
        int budget = Options.MaxBatchTokens;

        foreach (var s in _running)
        {
            if (!s.IsPrefilling && budget > 0)
            {
                _step.Add(new ScheduledSequence(s, 1));
                budget--;
            }
        }
        foreach (var s in _running)
        {
            if (s.IsPrefilling && budget > 0)
            {
                int n = Math.Min(budget, s.Prompt.Length - s.NumComputed);
                _step.Add(new ScheduledSequence(s, n));
                budget -= n;
            }
        }

        if (Options.EarlyAbort)
            AbortHopeless(clock);
        Admit(ref budget, freePages, adapters, clock);
        Charge();
        return _step;
    }

    /// <summary>The waiting sequences the next steps will admit first (in this step's order), for prefetching their adapters.</summary>
    public IEnumerable<Sequence> NextWaiting(int max)
    {
        int seen = 0;
        foreach (var node in _candidates)
        {
            if (seen >= max)
                yield break;
            if (node.Value.State == SequenceState.Waiting)
            {
                seen++;
                yield return node.Value;
            }
        }
    }

    /// <summary>Removes a sequence, waiting or running; the caller returns its pages.</summary>
    public void Finish(Sequence sequence)
    {
        if (sequence.State == SequenceState.Finished)
            return;
        if (sequence.State == SequenceState.Waiting)
            _waiting.Remove(sequence);
        else
            _running.Remove(sequence);
        sequence.State = SequenceState.Finished;
        string key = sequence.AdapterKey ?? BaseModelKey;
        _activeCount[key]--;
    }

    private void AbortHopeless(SchedulerClock clock)
    {
        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            var s = node.Value;
            if (s.FirstTokenDeadline is { } deadline && clock.Now + s.Prompt.Length * clock.PrefillSecondsPerToken > deadline)
            {
                _aborted.Add(s);
                Finish(s);
            }
            node = next;
        }
    }

    private void Admit(ref int budget, int freePages, IAdapterPages? adapters, SchedulerClock clock)
    {
        _batchAdapters.Clear();
        foreach (var s in _running)
        {
            if (s.AdapterKey is { } k)
                _batchAdapters.Add(k);
        }

        OrderCandidates(adapters, clock);
        foreach (var node in _candidates)
        {
            if (budget <= 0 || _running.Count >= Options.MaxBatchSequences)
                break;
            var s = node.Value;
            string? key = s.AdapterKey;
            if (key is not null && Options.MaxAdaptersPerBatch > 0 && !_batchAdapters.Contains(key)
                && _batchAdapters.Count >= Options.MaxAdaptersPerBatch)
                continue; // Clustering: a new adapter waits until the batch has room for one.

            int need = s.WorstCaseLength;
            bool chargeAdapter = key is not null && adapters is not null && !_chargedAdapters.Contains(key);
            if (chargeAdapter)
                need += adapters!.PagesToPin(key!);
            if (need > freePages)
                break; // Nobody overtakes the head of the order for pages, or it could starve.
            if (chargeAdapter)
                _chargedAdapters.Add(key!);
            if (key is not null)
                _batchAdapters.Add(key);

            _waiting.Remove(node);
            freePages -= need;
            s.State = SequenceState.Running;
            _running.Add(s);
            _admitted.Add(s);
            int n = Math.Min(budget, s.Prompt.Length);
            _step.Add(new ScheduledSequence(s, n));
            budget -= n;
        }
    }

    /// <summary>Puts the waiting sequences in admission order for this step.</summary>
    private void OrderCandidates(IAdapterPages? adapters, SchedulerClock clock)
    {
        _candidates.Clear();
        for (var node = _waiting.First; node is not null; node = node.Next)
            _candidates.Add(node);
        if (_candidates.Count < 2)
            return;

        if (Options.Fairness == FairnessPolicy.VirtualTokenCounter)
        {
            // Least-served adapter first; within an adapter, arrival order. The counters are
            // also advanced as sequences are admitted in this order (see Charge), so one step
            // cannot hand all its room to one adapter either: interleave by rounds.
            var byAdapter = _candidates.GroupBy(n => n.Value.AdapterKey ?? BaseModelKey)
                .OrderBy(g => _counters.GetValueOrDefault(g.Key)).ThenBy(g => g.First().Value.Id)
                .Select(g => g.ToList()).ToList();
            _candidates.Clear();
            for (int round = 0; _candidates.Count < _waiting.Count; round++)
            {
                foreach (var group in byAdapter)
                {
                    if (round < group.Count)
                        _candidates.Add(group[round]);
                }
            }
            return;
        }

        if (Options.PreferResidentAdapters && adapters is not null)
        {
            // Stable: requests of adapters already in the batch or on the device first, unless
            // a request has waited longer than the preference may delay it.
            _candidates.Sort((a, b) =>
            {
                int pa = Preference(a.Value, adapters, clock), pb = Preference(b.Value, adapters, clock);
                return pa != pb ? pa.CompareTo(pb) : a.Value.Id.CompareTo(b.Value.Id);
            });
        }
    }

    private int Preference(Sequence s, IAdapterPages adapters, SchedulerClock clock)
    {
        if (clock.Now - s.ArrivalTime > Options.MaxPreferenceDelaySeconds)
            return 0;
        if (s.AdapterKey is not { } key || _batchAdapters.Contains(key) || adapters.IsResident(key))
            return 1;
        return 2;
    }

    /// <summary>Fairness: each sequence's adapter is charged for the tokens it gets this step.</summary>
    private void Charge()
    {
        if (Options.Fairness != FairnessPolicy.VirtualTokenCounter)
            return;
        foreach (var (s, n) in _step)
        {
            string key = s.AdapterKey ?? BaseModelKey;
            double weight = s.IsPrefilling ? Options.InputTokenWeight : Options.OutputTokenWeight;
            _counters[key] = _counters.GetValueOrDefault(key) + n * weight;
        }
    }
}
