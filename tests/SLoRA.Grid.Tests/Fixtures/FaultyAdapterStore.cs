using SLoRA.Grid.Catalog;
using SLoRA.Grid.Storage;

namespace SLoRA.Grid.Tests.Fixtures;

/// <summary>
/// A store that cannot be reached for ids starting with <see cref="UnreachablePrefix"/> or marked
/// with <see cref="Cut"/>, and is <paramref name="inner"/> for the rest.
/// </summary>
public sealed class FaultyAdapterStore(IAdapterStore inner) : IAdapterStore
{
    public const string UnreachablePrefix = "unreachable-";

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _cut = new();

    /// <summary>Makes the store unreachable for <paramref name="adapterId"/> until the returned scope ends.</summary>
    public IDisposable Cut(string adapterId)
    {
        _cut[adapterId] = true;
        return new Restore(() => _cut.TryRemove(adapterId, out _));
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    public Task<AdapterInfo?> GetAsync(string adapterId, CancellationToken cancellationToken = default) =>
        Fail<AdapterInfo?>(adapterId) ?? inner.GetAsync(adapterId, cancellationToken);

    public Task<IReadOnlyList<AdapterInfo>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);

    public Task<string?> MaterializeAsync(AdapterInfo adapter, CancellationToken cancellationToken = default) =>
        Fail<string?>(adapter.AdapterId) ?? inner.MaterializeAsync(adapter, cancellationToken);

    public Task<AdapterInfo> PutAsync(string adapterId, IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken = default) =>
        Fail<AdapterInfo>(adapterId) ?? inner.PutAsync(adapterId, files, cancellationToken);

    public Task<bool> DeleteAsync(string adapterId, CancellationToken cancellationToken = default) =>
        Fail<bool>(adapterId) ?? inner.DeleteAsync(adapterId, cancellationToken);

    private Task<T>? Fail<T>(string adapterId) =>
        adapterId.StartsWith(UnreachablePrefix, StringComparison.Ordinal) || _cut.ContainsKey(adapterId)
            ? Task.FromException<T>(new AdapterStoreException("connection refused (test)"))
            : null;
}
