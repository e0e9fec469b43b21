namespace SLoRA.Grid.Status;

/// <summary>Where an adapter's grain is active and which version it serves.</summary>
/// <param name="AdapterId">The adapter.</param>
/// <param name="Version">The store version it loaded.</param>
/// <param name="Silo">The silo its activation (and its engine registration) lives on.</param>
/// <param name="FromWarmCache">True when the activation took the weights from the silo's warm host cache instead of the store.</param>
/// <param name="Reloads">How many times this activation reloaded a newer version.</param>
[GenerateSerializer, Immutable, Alias("slora.AdapterActivationInfo")]
public sealed record AdapterActivationInfo(
    [property: Id(0)] string AdapterId,
    [property: Id(1)] string Version,
    [property: Id(2)] SiloAddress Silo,
    [property: Id(3)] bool FromWarmCache,
    [property: Id(4)] int Reloads);
