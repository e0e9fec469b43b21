namespace SLoRA.Engine.Kernels;

/// <summary>The shape facts the attention-side kernels need, passed by value into kernels.</summary>
internal readonly struct AttentionShape(int numHeads, int numKvHeads, int headDim, int numLayers)
{
    public readonly int NumHeads = numHeads;
    public readonly int NumKvHeads = numKvHeads;
    public readonly int HeadDim = headDim;
    public readonly int NumLayers = numLayers;

    /// <summary>Width of one token's K (or V) row in one layer.</summary>
    public int KvDim => NumKvHeads * HeadDim;

    /// <summary>Width of the fused [q | k | v] projection output.</summary>
    public int QkvWidth => (NumHeads + 2 * NumKvHeads) * HeadDim;

    /// <summary>Elements of one page: K and V rows of one token for every layer.</summary>
    public long PageElements => 2L * NumLayers * KvDim;

    /// <summary>Element offset of token page <paramref name="page"/>'s K row in <paramref name="layer"/>; V follows at + KvDim.</summary>
    public long KeyOffset(int page, int layer) => ((long)page * NumLayers + layer) * 2 * KvDim;
}
