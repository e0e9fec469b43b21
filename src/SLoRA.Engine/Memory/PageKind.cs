namespace SLoRA.Engine.Memory;

/// <summary>What a page of the unified pool holds.</summary>
public enum PageKind : byte
{
    /// <summary>On the free list.</summary>
    Free = 0,
    /// <summary>One token's K and V rows of every layer.</summary>
    KvCache = 1,
    /// <summary>Part of a resident adapter's A and B matrices.</summary>
    Adapter = 2,
}
