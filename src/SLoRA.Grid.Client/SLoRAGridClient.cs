using System.Text;
using SLoRA.Grid.Catalog;
using SLoRA.Grid.Generation;
using SLoRA.Grid.Status;

namespace SLoRA.Grid.Client;

/// <summary>
/// Typed access to an SLoRA.Grid cluster over an <see cref="IClusterClient"/> (a client process or
/// a co-hosted one in a silo). Errors arrive as the exception types in <c>SLoRA.Grid.Errors</c>:
/// unknown adapter, rejected adapter, unreachable store, bad request, overload.
/// </summary>
public sealed class SLoRAGridClient(IClusterClient cluster)
{
    /// <summary>
    /// Streams tokens generated with <paramref name="adapterId"/>. Cancelling
    /// <paramref name="cancellationToken"/> or leaving the loop early cancels the request on the
    /// engine and frees its pages.
    /// </summary>
    public IAsyncEnumerable<TokenChunk> GenerateAsync(string adapterId, GenerateRequest request, CancellationToken cancellationToken = default)
    {
        AdapterIds.Validate(adapterId);
        ArgumentNullException.ThrowIfNull(request);
        return Adapter(adapterId).GenerateAsync(request, cancellationToken);
    }

    /// <summary>Generates with <paramref name="adapterId"/> and returns the whole result.</summary>
    public async Task<GenerationResult> GenerateToEndAsync(string adapterId, GenerateRequest request, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        var tokens = new List<int>();
        FinishReason? reason = null;
        await foreach (var chunk in GenerateAsync(adapterId, request, cancellationToken).ConfigureAwait(false))
        {
            text.Append(chunk.Text);
            if (chunk.TokenId >= 0)
                tokens.Add(chunk.TokenId);
            reason = chunk.FinishReason ?? reason;
        }
        return new GenerationResult(text.ToString(), tokens, reason);
    }

    /// <summary>
    /// Uploads the PEFT folder <paramref name="peftFolder"/> (its top-level files) as a new version of
    /// <paramref name="adapterId"/>; silos serving the adapter reload it.
    /// </summary>
    public Task<AdapterInfo> RegisterAdapterAsync(string adapterId, string peftFolder, CancellationToken cancellationToken = default)
    {
        AdapterIds.Validate(adapterId);
        if (!Directory.Exists(peftFolder))
            throw new DirectoryNotFoundException($"the adapter folder '{peftFolder}' does not exist.");
        return RegisterFilesAsync(adapterId, peftFolder, cancellationToken);
    }

    private async Task<AdapterInfo> RegisterFilesAsync(string adapterId, string peftFolder, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(peftFolder))
        {
            var name = Path.GetFileName(path);
            if (!name.StartsWith('.'))
                files[name] = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        return await RegisterAdapterAsync(adapterId, files).ConfigureAwait(false);
    }

    /// <summary>Uploads a PEFT adapter given as file name → bytes.</summary>
    public Task<AdapterInfo> RegisterAdapterAsync(string adapterId, IReadOnlyDictionary<string, byte[]> files)
    {
        AdapterIds.Validate(adapterId);
        return Catalog.RegisterAsync(new AdapterUpload(adapterId, files));
    }

    /// <summary>Every adapter in the store.</summary>
    public Task<IReadOnlyList<AdapterInfo>> ListAdaptersAsync() => Catalog.ListAsync();

    /// <summary>One adapter's current version, or null when it does not exist.</summary>
    public Task<AdapterInfo?> GetAdapterAsync(string adapterId)
    {
        AdapterIds.Validate(adapterId);
        return Catalog.GetAsync(adapterId);
    }

    /// <summary>Deletes an adapter from the store and unloads it wherever it is active; false when it did not exist.</summary>
    public Task<bool> DeleteAdapterAsync(string adapterId)
    {
        AdapterIds.Validate(adapterId);
        return Catalog.DeleteAsync(adapterId);
    }

    /// <summary>Activates an adapter (placing it on a GPU silo and loading it) and says where it is.</summary>
    public Task<AdapterActivationInfo> LoadAdapterAsync(string adapterId)
    {
        AdapterIds.Validate(adapterId);
        return Adapter(adapterId).GetInfoAsync();
    }

    /// <summary>Deactivates an adapter, freeing its GPU pages (it stays in the store).</summary>
    public Task UnloadAdapterAsync(string adapterId)
    {
        AdapterIds.Validate(adapterId);
        return Adapter(adapterId).UnloadAsync();
    }

    /// <summary>Every active silo's GPU status: adapters active and warm on each, pages by kind, queues.</summary>
    public async Task<ClusterStatus> GetClusterStatusAsync()
    {
        var hosts = await cluster.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).ConfigureAwait(false);
        var statuses = await Task.WhenAll(hosts.Keys.Select(silo =>
            cluster.GetGrain<IGpuSiloGrain>(GpuSiloKeys.For(silo)).GetStatusAsync())).ConfigureAwait(false);
        return new ClusterStatus([.. statuses.OrderBy(s => s.Silo.ToString(), StringComparer.Ordinal)]);
    }

    private IAdapterGrain Adapter(string adapterId) => cluster.GetGrain<IAdapterGrain>(adapterId);

    private IAdapterCatalogGrain Catalog => cluster.GetGrain<IAdapterCatalogGrain>(GridNames.CatalogKey);
}
