using System.Threading.Channels;
using SLoRA.Engine.Generation;
using SLoRA.Engine.Memory;
using SLoRA.Engine.Scheduling;
using SLoRA.Engine.Tokenization;

namespace SLoRA.Engine.Serving;

/// <summary>A request inside the engine: its sequence, its output channel and its text state.</summary>
internal sealed class ActiveRequest(Sequence sequence, TextTokenizer? tokenizer, ulong seed, PackedAdapter? adapter)
{
    private int _cancelRequested;

    public Sequence Sequence { get; } = sequence;

    /// <summary>The adapter version the request runs with; null for the base model.</summary>
    public PackedAdapter? Adapter { get; } = adapter;

    /// <summary>True while this request counts as a user of its adapter in the cache.</summary>
    public bool HoldsAdapter { get; set; }

    public Channel<TokenChunk> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<TokenChunk>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public IncrementalDetokenizer? Detokenizer { get; } = tokenizer is null ? null : new IncrementalDetokenizer(tokenizer);

    public StopStringMatcher Stops { get; } = new(sequence.Sampling.StopStrings);

    public SplitMixRandom Random = new(seed);

    public bool CancelRequested => Volatile.Read(ref _cancelRequested) != 0;

    public bool IsFinished => Sequence.State == SequenceState.Finished;

    public void RequestCancel() => Interlocked.Exchange(ref _cancelRequested, 1);

    /// <summary>Text of a new token, held back while it may be the start of a stop string.</summary>
    public (string Text, bool Stopped) PushText(int token)
    {
        if (Detokenizer is null)
            return ("", false);
        return Stops.Feed(Detokenizer.Push(token));
    }

    /// <summary>Whatever text is still held back, at the end of the request.</summary>
    public string FlushText()
    {
        if (Detokenizer is null)
            return "";
        var (tail, stopped) = Stops.Feed(Detokenizer.Flush());
        return stopped ? tail : tail + Stops.Flush();
    }
}
