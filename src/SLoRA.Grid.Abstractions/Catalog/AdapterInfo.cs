namespace SLoRA.Grid.Catalog;

/// <summary>An adapter in the store: its current version and size.</summary>
/// <param name="AdapterId">The adapter.</param>
/// <param name="Version">Its current version (opaque; a new upload gives a new one).</param>
/// <param name="SizeBytes">Bytes of its files.</param>
/// <param name="LastModified">When the current version was written.</param>
[GenerateSerializer, Immutable, Alias("slora.AdapterInfo")]
public sealed record AdapterInfo(
    [property: Id(0)] string AdapterId,
    [property: Id(1)] string Version,
    [property: Id(2)] long SizeBytes,
    [property: Id(3)] DateTimeOffset LastModified);
