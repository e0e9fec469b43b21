namespace SLoRA.Grid.Catalog;

/// <summary>What happened to an adapter in the store.</summary>
[GenerateSerializer, Alias("slora.AdapterChangeKind")]
public enum AdapterChangeKind
{
    /// <summary>A new version was written; active grains reload it.</summary>
    Updated,
    /// <summary>The adapter was deleted; active grains unload.</summary>
    Deleted,
}

/// <summary>An adapter-changed event, published on the catalog stream.</summary>
/// <param name="AdapterId">The adapter.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Version">The new version (null for a deletion).</param>
[GenerateSerializer, Immutable, Alias("slora.AdapterCatalogEvent")]
public sealed record AdapterCatalogEvent(
    [property: Id(0)] string AdapterId,
    [property: Id(1)] AdapterChangeKind Kind,
    [property: Id(2)] string? Version);
