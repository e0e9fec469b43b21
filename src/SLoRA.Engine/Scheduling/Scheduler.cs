namespace SLoRA.Engine.Scheduling;

/// <summary>What admission needs to know about adapters: how many pages pinning one on the device costs now.</summary>
public interface IAdapterPages
{
    /// <summary>0 when running sequences already hold the adapter on the device; else its page count (it may need loading, or may be evicted otherwise).</summary>
    int PagesToPin(string adapterKey);
}

/// <summary>One sequence's share of a step: how many of its tokens are computed.</summary>
public readonly record struct ScheduledSequence(Sequence Sequence, int NumTokens);

/// <summary>
/// Iteration-level continuous batching. Each step: every running sequence that finished its
/// prompt decodes one token; sequences in the middle of a prompt continue it; waiting sequences
/// are admitted in arrival order while the step's token budget, the batch cap and the free
/// pages allow. Admission reserves KV pages for the worst case (prompt + max new tokens), as
/// S-LoRA does, so a running sequence can never run out of pages or be preempted.
/// Pure: no device, no clock; the engine hands it the number of free pages.
/// </summary>
public sealed class Scheduler(SchedulerOptions options)
{
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly List<Sequence> _running = [];
    private readonly List<ScheduledSequence> _step = [];
    private readonly List<Sequence> _admitted = [];
    private readonly HashSet<string> _chargedAdapters = [];

    /// <summary>The limits in force.</summary>
    public SchedulerOptions Options { get; } = options;

    /// <summary>Sequences waiting for admission.</summary>
    public int WaitingCount => _waiting.Count;

    /// <summary>Admitted sequences.</summary>
    public IReadOnlyList<Sequence> Running => _running;

    /// <summary>Sequences admitted by the last <see cref="Schedule"/>; the caller gives each its pages.</summary>
    public IReadOnlyList<Sequence> Admitted => _admitted;

    /// <summary>Queues a new sequence.</summary>
    public void Add(Sequence sequence) => _waiting.AddLast(sequence);

    /// <summary>
    /// Plans the next step given <paramref name="freePages"/> pages that are free or could be
    /// freed (idle adapters). The returned list is reused by the next call.
    /// </summary>
    public IReadOnlyList<ScheduledSequence> Schedule(int freePages, IAdapterPages? adapters = null)
    {
        _step.Clear();
        _admitted.Clear();
        _chargedAdapters.Clear();
        int budget = Options.MaxBatchTokens;

        foreach (var s in _running)
        {
            if (!s.IsPrefilling && budget > 0 && _step.Count < Options.MaxBatchSequences)
            {
                _step.Add(new ScheduledSequence(s, 1));
                budget--;
            }
        }
        foreach (var s in _running)
        {
            if (s.IsPrefilling && budget > 0 && _step.Count < Options.MaxBatchSequences)
            {
                int n = Math.Min(budget, s.Prompt.Length - s.NumComputed);
                _step.Add(new ScheduledSequence(s, n));
                budget -= n;
            }
        }
        while (_waiting.First is { } node && budget > 0 && _step.Count < Options.MaxBatchSequences)
        {
            var s = node.Value;
            int need = s.WorstCaseLength;
            bool chargeAdapter = s.AdapterKey is { } key && adapters is not null && !_chargedAdapters.Contains(key);
            if (chargeAdapter)
                need += adapters!.PagesToPin(s.AdapterKey!);
            if (need > freePages)
                break; // First come, first served: later arrivals do not overtake it.
            if (chargeAdapter)
                _chargedAdapters.Add(s.AdapterKey!);
            _waiting.RemoveFirst();
            freePages -= need;
            s.State = SequenceState.Running;
            _running.Add(s);
            _admitted.Add(s);
            int n = Math.Min(budget, s.Prompt.Length);
            _step.Add(new ScheduledSequence(s, n));
            budget -= n;
        }
        return _step;
    }

    /// <summary>Removes a sequence, waiting or running; the caller returns its pages.</summary>
    public void Finish(Sequence sequence)
    {
        if (sequence.State == SequenceState.Waiting)
            _waiting.Remove(sequence);
        else
            _running.Remove(sequence);
        sequence.State = SequenceState.Finished;
    }
}
