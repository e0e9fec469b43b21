using SLoRA.Grid.Catalog;
using SLoRA.Grid.Storage;

namespace SLoRA.Grid.Tests.Fixtures;

/// <summary>A store that cannot be reached for ids starting with <see cref="UnreachablePrefix"/>, and is <paramref name="inner"/> for the rest.</summary>
internal sealed class FaultyAdapterStore(IAdapterStore inner) : IAdapterStore
{
    public const string UnreachablePrefix = "unreachable-";

    public Task<AdapterInfo?> GetAsync(string adapterId, CancellationToken cancellationToken = default) =>
        Fail<AdapterInfo?>(adapterId) ?? inner.GetAsync(adapterId, cancellationToken);

    public Task<IReadOnlyList<AdapterInfo>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);

    public Task<string?> MaterializeAsync(AdapterInfo adapter, CancellationToken cancellationToken = default) =>
        Fail<string?>(adapter.AdapterId) ?? inner.MaterializeAsync(adapter, cancellationToken);

    public Task<AdapterInfo> PutAsync(string adapterId, IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken = default) =>
        Fail<AdapterInfo>(adapterId) ?? inner.PutAsync(adapterId, files, cancellationToken);

    public Task<bool> DeleteAsync(string adapterId, CancellationToken cancellationToken = default) =>
        Fail<bool>(adapterId) ?? inner.DeleteAsync(adapterId, cancellationToken);

    private static Task<T>? Fail<T>(string adapterId) =>
        adapterId.StartsWith(UnreachablePrefix, StringComparison.Ordinal)
            ? Task.FromException<T>(new AdapterStoreException("connection refused (test)"))
            : null;
}
