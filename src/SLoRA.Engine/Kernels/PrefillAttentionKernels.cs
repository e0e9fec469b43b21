using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// Causal paged attention for prefill tokens, in the FlashAttention style: one group of warps
/// per (tile, query head), where a tile (<see cref="TokenTile"/>) is up to <see cref="TileTokens"/>
/// consecutive tokens of one sequence. The group walks the keys 0..(last position of the tile) in
/// blocks of <see cref="BlockKeys"/>; it copies each block's K and V rows (this head's KV slice,
/// found through the page list) into shared memory once, and every query of the tile is scored
/// against the block from there. Global K/V traffic is so once per tile instead of once per token
/// (a prefill of n tokens reads each K/V row about n / <see cref="TileTokens"/> times, not n).
/// Within the group, warp w owns the tile's queries w, w + warps, …: lanes score one key each
/// (16-byte loads from shared memory), the query's running max and sum are updated with an online
/// softmax, then the lanes switch to owning head dimensions and accumulate the block's V rows.
/// Same function as <see cref="AttentionKernel"/> for the tokens of the tiles.
/// </summary>
internal sealed class PrefillAttentionKernels
{
    /// <summary>
    /// Most tokens a tile may hold. Every K/V block staged in shared memory serves this many
    /// queries; 16 splits a group of 4 warps into 4 queries per warp, keeps the per-query state
    /// (queries, accumulators, probabilities: ~18 KB at head_dim 128) and the K/V block together
    /// within the 48 KB of static shared memory CUDA allows a group, and wastes little on a short
    /// last tile of a segment.
    /// </summary>
    public const int TileTokens = 16;

    /// <summary>Keys staged per block: one per lane of a 32-wide warp when scoring.</summary>
    public const int BlockKeys = 32;

    /// <summary>Largest head dimension the shared buffers hold (Llama, Mistral, Qwen: 128).</summary>
    public const int MaxHeadDim = 128;

    /// <summary>Warps per group: as the tuned kernels, enough to hide latency without large groups.</summary>
    private const int WarpsPerGroup = 4;

    private const int MaxChunks = MaxHeadDim / 8;

    /// <summary>
    /// K rows in shared memory are padded by one 16-byte chunk: lanes reading the same chunk of
    /// different keys then hit different banks instead of all the same ones (a row of 256 bytes is
    /// a multiple of the 128 bytes the banks span).
    /// </summary>
    private const int KeyChunkCapacity = BlockKeys * (MaxChunks + 1);

    /// <summary>Shared memory one group uses (static, the same for every head dimension).</summary>
    public const int SharedMemoryBytes =
        KeyChunkCapacity * 16                  // K block, fp16, padded rows
        + BlockKeys * MaxChunks * 16           // V block, fp16
        + TileTokens * MaxChunks * 32          // queries, fp32
        + TileTokens * MaxHeadDim * 4          // output accumulators, fp32
        + TileTokens * BlockKeys * 4           // scores, then probabilities, of the block
        + 2 * TileTokens * 4;                  // running max and sum per query

    private readonly Accelerator _acc;
    private readonly int _warps;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TokenTile>, AttentionArgs, AttentionShape, int, float> _kernel;

    public PrefillAttentionKernels(Accelerator accelerator)
    {
        _acc = accelerator;
        // As many warps as the device allows up to 4 (ILGPU's CPU device may allow one); the
        // kernel splits the queries over the group's own warp count.
        _warps = Math.Max(1, Math.Min(WarpsPerGroup, accelerator.MaxNumThreadsPerGroup / accelerator.WarpSize));
        _kernel = accelerator.LoadKernel<ArrayView<TokenTile>, AttentionArgs, AttentionShape, int, float>(Kernel);
    }

    /// <summary>
    /// Shapes the kernel handles: head dimensions that are multiples of 8 (16-byte loads of K, V
    /// and q; then every row offset is 8-aligned too) up to <see cref="MaxHeadDim"/>, query heads a
    /// multiple of the KV heads, and a device whose groups have <see cref="SharedMemoryBytes"/>.
    /// </summary>
    public bool Supports(AttentionShape shape) =>
        shape.HeadDim > 0 && shape.HeadDim % 8 == 0 && shape.HeadDim <= MaxHeadDim
        && shape.NumKvHeads > 0 && shape.NumHeads % shape.NumKvHeads == 0
        && _acc.MaxSharedMemoryPerGroup >= SharedMemoryBytes
        && _acc.MaxNumThreadsPerGroup >= _acc.WarpSize;

    /// <summary>
    /// Attention for the tokens of <paramref name="tiles"/>[0..<paramref name="numTiles"/>): writes
    /// the <see cref="AttentionArgs.Output"/> rows of exactly those tokens (all heads) and leaves
    /// every other row untouched. Each tile holds 1..<see cref="TileTokens"/> tokens of one
    /// sequence at consecutive positions (its K/V already written to the pool for every position up
    /// to the tile's last); tiles must not overlap.
    /// </summary>
    public void Launch(AcceleratorStream stream, ArrayView<TokenTile> tiles, int numTiles, AttentionArgs args, AttentionShape shape, int layer)
    {
        if (numTiles == 0)
            return;
        _kernel(stream, new KernelConfig(numTiles * shape.NumHeads, _warps * _acc.WarpSize), tiles, args, shape, layer,
            1f / MathF.Sqrt(shape.HeadDim));
    }

    internal static void Kernel(ArrayView<TokenTile> tiles, AttentionArgs a, AttentionShape shape, int layer, float scale)
    {
        // Shared buffers are sized for the largest shape; rows are packed at the actual head_dim.
        var keyBlock = SharedMemory.Allocate<Half8>(KeyChunkCapacity);
        var valueBlock = SharedMemory.Allocate<Half8>(BlockKeys * MaxChunks);
        var queries = SharedMemory.Allocate<Float8>(TileTokens * MaxChunks);
        var acc = SharedMemory.Allocate<float>(TileTokens * MaxHeadDim);
        var probs = SharedMemory.Allocate<float>(TileTokens * BlockKeys);
        var rowMax = SharedMemory.Allocate<float>(TileTokens);
        var rowSum = SharedMemory.Allocate<float>(TileTokens);
        var values = valueBlock.Cast<Half>();

        // Heads of a tile are adjacent groups: query heads of one KV head read the same K/V rows
        // close together in time, so the second and later reads come from L2.
        int tileIndex = Grid.IdxX / shape.NumHeads;
        int h = Grid.IdxX - tileIndex * shape.NumHeads;
        var tile = tiles[tileIndex];
        int first = tile.First;
        int count = tile.Count;
        int hd = shape.HeadDim;
        int chunks = hd / 8;
        int keyStride = chunks + 1;
        int kvHead = h / (shape.NumHeads / shape.NumKvHeads);
        int firstPosition = a.Positions[first];
        int keys = firstPosition + count; // the tile's last token attends to keys 0..firstPosition + count - 1
        int pageListStart = a.PageListStart[a.SeqOfToken[first]];
        int thread = Group.IdxX;
        int threads = Group.DimX;
        int ws = Warp.WarpSize;
        int warps = threads / ws;
        int warp = Warp.WarpIdx;
        int lane = Warp.LaneIdx;

        var qkv8 = a.Qkv.Cast<Float8>();
        var pool8 = a.Pool.Cast<Half8>();
        for (int i = thread; i < count * chunks; i += threads)
        {
            int q = i / chunks;
            int c = i - q * chunks;
            queries[i] = qkv8[((long)(first + q) * shape.QkvWidth + (long)h * hd) / 8 + c];
        }
        for (int i = thread; i < count * hd; i += threads)
            acc[i] = 0f;
        for (int q = thread; q < count; q += threads)
        {
            rowMax[q] = float.NegativeInfinity;
            rowSum[q] = 0f;
        }

        long headOffset = (long)kvHead * hd;
        long valueOffset8 = shape.KvDim / 8;
        for (int blockStart = 0; blockStart < keys; blockStart += BlockKeys)
        {
            // The whole group stages the block: consecutive threads read consecutive 16-byte
            // chunks of a row, so each K/V row is one coalesced read.
            int blockKeys = Math.Min(BlockKeys, keys - blockStart);
            for (int i = thread; i < blockKeys * chunks; i += threads)
            {
                int j = i / chunks;
                int c = i - j * chunks;
                long k8 = (shape.KeyOffset(a.PageLists[pageListStart + blockStart + j], layer) + headOffset) / 8 + c;
                keyBlock[j * keyStride + c] = pool8[k8];
                valueBlock[j * chunks + c] = pool8[k8 + valueOffset8];
            }
            Group.Barrier();

            for (int q = warp; q < count; q += warps)
            {
                // Causal: query q (position firstPosition + q) sees the block's first `visible`
                // keys. The same for every lane of the warp, so the skip keeps the warp together.
                int visible = Math.Min(blockKeys, firstPosition + q - blockStart + 1);
                if (visible <= 0)
                    continue;
                int row = q * BlockKeys;

                // Lanes as keys: scores of the block.
                float localMax = float.NegativeInfinity;
                for (int j = lane; j < visible; j += ws)
                {
                    float dot = 0f;
                    for (int c = 0; c < chunks; c++)
                    {
                        // Copies into locals: one 16-byte shared load each (a method called on the
                        // element in place makes ILGPU load it field by field).
                        Half8 k = keyBlock[j * keyStride + c];
                        Float8 qc = queries[q * chunks + c];
                        dot += k.Dot(qc);
                    }
                    float score = dot * scale;
                    probs[row + j] = score;
                    localMax = MathF.Max(localMax, score);
                }
                float oldMax = rowMax[q];
                float newMax = MathF.Max(oldMax, WarpMath.AllMax(localMax));
                float correction = MathF.Exp(oldMax - newMax); // 0 on the first block (oldMax = -inf)
                float localSum = 0f;
                for (int j = lane; j < visible; j += ws)
                {
                    float p = MathF.Exp(probs[row + j] - newMax);
                    probs[row + j] = p;
                    localSum += p;
                }
                float blockSum = WarpMath.AllSum(localSum);
                if (lane == 0)
                {
                    rowMax[q] = newMax;
                    rowSum[q] = rowSum[q] * correction + blockSum;
                }
                // Every lane reads every probability of the row next.
                Warp.Barrier();

                // Lanes as dimensions: each reads consecutive halves of the V rows.
                for (int d = lane; d < hd; d += ws)
                {
                    float value = acc[q * hd + d] * correction;
                    for (int j = 0; j < visible; j++)
                        value += probs[row + j] * (float)values[j * hd + d];
                    acc[q * hd + d] = value;
                }
            }
            // The next block overwrites the K/V buffers.
            Group.Barrier();
        }

        // The last barrier made every warp's accumulators and sums visible.
        long outStride = (long)shape.NumHeads * hd;
        for (int q = warp; q < count; q += warps)
        {
            float inv = 1f / rowSum[q];
            long outRow = (first + q) * outStride + (long)h * hd;
            for (int d = lane; d < hd; d += ws)
                a.Output[outRow + d] = (Half)(acc[q * hd + d] * inv);
        }
    }
}
