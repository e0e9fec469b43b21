namespace SLoRA.Engine.Kernels;

/// <summary>
/// A run of consecutive tokens of a step that belong to one sequence (so to one adapter):
/// tokens <see cref="First"/> .. <see cref="First"/> + <see cref="Count"/> − 1 of the batch, at
/// consecutive positions. Prefill segments are cut into tiles so that kernels can read a K/V
/// block or an adapter's A/B rows once for the whole tile instead of once per token.
/// </summary>
internal readonly struct TokenTile(int first, int count)
{
    /// <summary>Batch index of the tile's first token.</summary>
    public readonly int First = first;

    /// <summary>Tokens in the tile (at least 1).</summary>
    public readonly int Count = count;
}
