namespace SLoRA.Grid.Http.Adapters;

/// <summary>
/// An adapter as /v1/adapters shows it: its current version in the store and where it is
/// resident — the silos where its grain is active (weights in host memory, registered with the
/// engine, copied to GPU pages when a batch needs them) and those that keep it warm in host memory.
/// </summary>
public sealed record AdapterView(string Id, string Object, string Version, long SizeBytes, long LastModified, IReadOnlyList<SiloPlace> ActiveOn, IReadOnlyList<string> WarmOn);

/// <summary>A silo an adapter is active on.</summary>
/// <param name="Silo">The silo's address.</param>
/// <param name="Device">Its engine's device.</param>
public sealed record SiloPlace(string Silo, string Device);

/// <summary>GET /v1/adapters.</summary>
public sealed record AdapterList(string Object, IReadOnlyList<AdapterView> Data);

/// <summary>DELETE /v1/adapters/{id}.</summary>
public sealed record AdapterDeleted(string Id, string Object, bool Deleted);
