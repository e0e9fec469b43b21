namespace SLoRA.Grid.Catalog;

/// <summary>
/// A PEFT adapter folder sent to the catalog: file name → bytes (at least adapter_config.json
/// and adapter_model.safetensors). It travels in one Orleans message, so it suits adapters up
/// to tens of MiB; larger ones are better written to the store directly and announced.
/// </summary>
[GenerateSerializer, Immutable, Alias("slora.AdapterUpload")]
public sealed record AdapterUpload(
    [property: Id(0)] string AdapterId,
    [property: Id(1)] IReadOnlyDictionary<string, byte[]> Files);
