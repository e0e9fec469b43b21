namespace SLoRA.LoadTests.Workload;

/// <summary>
/// One request of a trace. Its prompt is made on demand from <see cref="PromptSeed"/>, so a
/// long trace costs a few dozen bytes a request until it is sent.
/// </summary>
/// <param name="Index">Position in the trace, from 0.</param>
/// <param name="ArrivalSeconds">Arrival time from the start of the trace.</param>
/// <param name="AdapterIndex">Which adapter it targets.</param>
/// <param name="AdapterId">That adapter's id; null would mean the base model.</param>
/// <param name="AdapterRank">That adapter's rank.</param>
/// <param name="InputLength">Prompt tokens.</param>
/// <param name="OutputLength">Tokens to generate (EOS ignored).</param>
/// <param name="PromptSeed">Seed of the prompt's token ids.</param>
/// <param name="MinTokenId">Smallest prompt token id (ids below are special tokens).</param>
/// <param name="VocabSize">Prompt token ids are below it.</param>
public sealed record TraceRequest(int Index, double ArrivalSeconds, int AdapterIndex, string? AdapterId, int AdapterRank,
    int InputLength, int OutputLength, ulong PromptSeed, int MinTokenId, int VocabSize)
{
    /// <summary>The prompt: <see cref="InputLength"/> random ids in [<see cref="MinTokenId"/>, <see cref="VocabSize"/>), the same on every call.</summary>
    public int[] PromptTokens()
    {
        var random = new Xoshiro256StarStar(PromptSeed);
        var ids = new int[InputLength];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = random.NextInt(MinTokenId, VocabSize);
        return ids;
    }
}
