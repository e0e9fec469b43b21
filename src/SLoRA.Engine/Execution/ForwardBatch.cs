namespace SLoRA.Engine.Execution;

/// <summary>
/// What one step computes, as flat host arrays that are reused from step to step: the new tokens
/// of every sequence in the batch (a prefill segment or one decode token each), where their KV
/// goes, every sequence's page list, and which tokens need logits. The scheduler decides what
/// goes in; the runner only executes it.
/// </summary>
public sealed class ForwardBatch
{
    private int[] _tokens, _positions, _seqOfToken, _kvPages, _logitRows, _loraSlots;
    private int[] _pageListStart, _pageLists;
    private readonly int[] _groupRanks = new int[Memory.PackedAdapter.NumGroups];
    private int[] _decodeTokens;
    private Kernels.TokenTile[] _tiles;

    /// <summary>
    /// Most tokens in one prefill tile: the tile kernels (PrefillAttentionKernels,
    /// SegmentLoraKernels) read a K/V block or an adapter's rows once for this many tokens.
    /// </summary>
    public const int TileTokens = 16;

    /// <summary>Creates an empty batch with room that grows as needed.</summary>
    public ForwardBatch(int tokenCapacity = 256, int sequenceCapacity = 16)
    {
        _tokens = new int[tokenCapacity];
        _positions = new int[tokenCapacity];
        _seqOfToken = new int[tokenCapacity];
        _kvPages = new int[tokenCapacity];
        _logitRows = new int[tokenCapacity];
        _loraSlots = new int[tokenCapacity];
        _pageListStart = new int[sequenceCapacity];
        _pageLists = new int[tokenCapacity * 4];
        _decodeTokens = new int[tokenCapacity];
        _tiles = new Kernels.TokenTile[tokenCapacity];
    }

    /// <summary>New tokens in this step.</summary>
    public int NumTokens { get; private set; }

    /// <summary>Sequences in this step.</summary>
    public int NumSequences { get; private set; }

    /// <summary>Rows of logits this step returns.</summary>
    public int NumLogitRows { get; private set; }

    /// <summary>Entries of all page lists together.</summary>
    public int PageListLength { get; private set; }

    /// <summary>Longest sequence (in tokens, including this step's) in the batch.</summary>
    public int MaxSequenceLength { get; private set; }

    /// <summary>Largest LoRA rank among the batch's adapters; 0 when every sequence runs the base model.</summary>
    public int MaxLoraRank { get; private set; }

    /// <summary>Largest LoRA rank among the batch's adapters in module group <paramref name="group"/> (q/k/v, o, gate/up, down); 0 when no adapter adapts that group.</summary>
    public int GroupRank(int group) => _groupRanks[group];

    /// <summary>Tokens that are their sequence's only new token (decode steps), in batch order.</summary>
    internal ReadOnlySpan<int> DecodeTokens => _decodeTokens.AsSpan(0, NumDecodeTokens);

    /// <summary>The other sequences' new tokens (prefill segments), cut into tiles of at most <see cref="TileTokens"/>.</summary>
    internal ReadOnlySpan<Kernels.TokenTile> PrefillTiles => _tiles.AsSpan(0, NumPrefillTiles);

    /// <summary>Entries of <see cref="DecodeTokens"/>.</summary>
    public int NumDecodeTokens { get; private set; }

    /// <summary>Entries of <see cref="PrefillTiles"/>.</summary>
    public int NumPrefillTiles { get; private set; }

    internal ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, NumTokens);
    internal ReadOnlySpan<int> Positions => _positions.AsSpan(0, NumTokens);
    internal ReadOnlySpan<int> SeqOfToken => _seqOfToken.AsSpan(0, NumTokens);
    internal ReadOnlySpan<int> KvPages => _kvPages.AsSpan(0, NumTokens);
    internal ReadOnlySpan<int> LogitRows => _logitRows.AsSpan(0, NumLogitRows);
    internal ReadOnlySpan<int> LoraSlots => _loraSlots.AsSpan(0, NumTokens);
    internal ReadOnlySpan<int> PageListStart => _pageListStart.AsSpan(0, NumSequences);
    internal ReadOnlySpan<int> PageLists => _pageLists.AsSpan(0, PageListLength);

    /// <summary>Empties the batch, keeping its arrays.</summary>
    public void Clear()
    {
        NumTokens = NumSequences = NumLogitRows = PageListLength = MaxSequenceLength = MaxLoraRank = NumDecodeTokens = NumPrefillTiles = 0;
        Array.Clear(_groupRanks);
    }

    /// <summary>
    /// Adds a sequence whose tokens at positions [0, pages.Length) have KV pages
    /// <paramref name="pages"/>, of which the last <paramref name="newTokens"/>.Length are computed
    /// in this step. Returns the batch index of the sequence.
    /// </summary>
    /// <param name="pages">The sequence's page list, including the pages of this step's tokens.</param>
    /// <param name="newTokens">This step's tokens: a prefill segment, or one decode token.</param>
    /// <param name="logits">Which of this step's tokens need logits.</param>
    /// <param name="loraSlot">The adapter's slot in the runner's adapter cache, or -1 for the base model.</param>
    /// <param name="loraRank">The adapter's largest rank (0 for the base model).</param>
    /// <param name="groupRanks">The adapter's largest rank per module group (q/k/v, o, gate/up, down); empty: <paramref name="loraRank"/> for every group.</param>
    public int AddSequence(ReadOnlySpan<int> pages, ReadOnlySpan<int> newTokens, LogitSelection logits = LogitSelection.Last,
        int loraSlot = -1, int loraRank = 0, ReadOnlySpan<int> groupRanks = default)
    {
        if (!groupRanks.IsEmpty && groupRanks.Length != _groupRanks.Length)
            throw new ArgumentException($"groupRanks has {groupRanks.Length} entries; expected {_groupRanks.Length}.", nameof(groupRanks));
        if (newTokens.Length == 0 || newTokens.Length > pages.Length)
            throw new ArgumentException("A sequence adds between 1 and pages.Length tokens.", nameof(newTokens));
        int seq = NumSequences++;
        Grow(ref _pageListStart, NumSequences);
        Grow(ref _pageLists, PageListLength + pages.Length);
        _pageListStart[seq] = PageListLength;
        pages.CopyTo(_pageLists.AsSpan(PageListLength));
        PageListLength += pages.Length;
        MaxSequenceLength = Math.Max(MaxSequenceLength, pages.Length);

        int first = pages.Length - newTokens.Length;
        int end = NumTokens + newTokens.Length;
        Grow(ref _tokens, end);
        Grow(ref _positions, end);
        Grow(ref _seqOfToken, end);
        Grow(ref _kvPages, end);
        Grow(ref _logitRows, end);
        Grow(ref _loraSlots, end);
        if (newTokens.Length == 1)
        {
            Grow(ref _decodeTokens, NumDecodeTokens + 1);
            _decodeTokens[NumDecodeTokens++] = NumTokens;
        }
        else
        {
            int tiles = (newTokens.Length + TileTokens - 1) / TileTokens;
            if (_tiles.Length < NumPrefillTiles + tiles)
                Array.Resize(ref _tiles, Math.Max(NumPrefillTiles + tiles, 2 * _tiles.Length));
            for (int i = 0; i < newTokens.Length; i += TileTokens)
                _tiles[NumPrefillTiles++] = new Kernels.TokenTile(NumTokens + i, Math.Min(TileTokens, newTokens.Length - i));
        }
        if (loraSlot >= 0)
        {
            MaxLoraRank = Math.Max(MaxLoraRank, loraRank);
            for (int g = 0; g < _groupRanks.Length; g++)
                _groupRanks[g] = Math.Max(_groupRanks[g], groupRanks.IsEmpty ? loraRank : groupRanks[g]);
        }
        for (int i = 0; i < newTokens.Length; i++)
        {
            int t = NumTokens + i;
            _tokens[t] = newTokens[i];
            _positions[t] = first + i;
            _seqOfToken[t] = seq;
            _kvPages[t] = pages[first + i];
            _loraSlots[t] = loraSlot;
            if (logits == LogitSelection.All || (logits == LogitSelection.Last && i == newTokens.Length - 1))
                _logitRows[NumLogitRows++] = t;
        }
        NumTokens = end;
        return seq;
    }

    private static void Grow(ref int[] array, int needed)
    {
        if (array.Length < needed)
            Array.Resize(ref array, Math.Max(needed, array.Length * 2));
    }
}

/// <summary>Which of a sequence's new tokens get logits.</summary>
public enum LogitSelection
{
    /// <summary>Only the last (what sampling needs).</summary>
    Last,
    /// <summary>Every new token (prompt log-probabilities, parity tests).</summary>
    All,
    /// <summary>None (a chunk of a prefill that continues in a later step).</summary>
    None,
}
