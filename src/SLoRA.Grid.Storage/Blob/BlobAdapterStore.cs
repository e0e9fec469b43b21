using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using SLoRA.Grid.Catalog;

namespace SLoRA.Grid.Storage.Blob;

/// <summary>
/// Adapters in Azure Blob Storage. Layout under the container, for adapter id X:
/// <c>{prefix}X/v/{version}/{file}</c> holds each version's PEFT files, and <c>{prefix}X/current</c>
/// names the current version (its metadata carries version and size). A write uploads the new
/// version first and moves the pointer last, so readers never see half a version; older versions
/// beyond <see cref="BlobAdapterStoreOptions.RetainedVersions"/> are then deleted. Versions are
/// downloaded once into <see cref="BlobAdapterStoreOptions.CacheDirectory"/>.
/// </summary>
public sealed class BlobAdapterStore : IAdapterStore
{
    private const string CurrentBlob = "current";
    private const string VersionsFolder = "v";
    private const string CompleteMarker = ".complete";
    private readonly BlobAdapterStoreOptions _options;
    private readonly BlobContainerClient _container;
    private readonly string _cacheRoot;
    private int _containerReady;

    /// <summary>A store over the configured container.</summary>
    public BlobAdapterStore(BlobAdapterStoreOptions options)
    {
        options.Validate();
        _options = options;
        var service = options.ServiceClient ?? new BlobServiceClient(options.ConnectionString, ClientOptions(options));
        _container = service.GetBlobContainerClient(options.ContainerName);
        // One cache subfolder per (account, container, prefix), so stores never share files by accident.
        var scope = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{_container.Uri}|{options.Prefix}")))[..16];
        _cacheRoot = Path.Combine(Path.GetFullPath(options.CacheDirectory), scope);
    }

    private static BlobClientOptions ClientOptions(BlobAdapterStoreOptions options)
    {
        var client = new BlobClientOptions();
        client.Retry.MaxRetries = options.MaxRetries;
        client.Retry.NetworkTimeout = options.NetworkTimeout;
        client.Retry.Delay = TimeSpan.FromMilliseconds(200);
        return client;
    }

    /// <inheritdoc/>
    public Task<AdapterInfo?> GetAsync(string adapterId, CancellationToken cancellationToken = default)
    {
        AdapterIds.Validate(adapterId);
        return Guard(adapterId, async () =>
        {
            await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var props = await _container.GetBlobClient(PointerName(adapterId)).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                return FromPointer(adapterId, props.Value.Metadata, props.Value.LastModified);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                return null;
            }
        });
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<AdapterInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        Guard("", async () =>
        {
            await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            var found = new List<AdapterInfo>();
            var listing = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = _options.Prefix, Traits = BlobTraits.Metadata }, cancellationToken);
            await foreach (var blob in listing.ConfigureAwait(false))
            {
                var rest = blob.Name[_options.Prefix.Length..];
                int slash = rest.IndexOf('/', StringComparison.Ordinal);
                if (slash <= 0 || rest[(slash + 1)..] != CurrentBlob)
                    continue;
                var id = rest[..slash];
                if (AdapterIds.IsValid(id) && FromPointer(id, blob.Metadata, blob.Properties.LastModified ?? DateTimeOffset.MinValue) is { } info)
                    found.Add(info);
            }
            return (IReadOnlyList<AdapterInfo>)[.. found.OrderBy(a => a.AdapterId, StringComparer.Ordinal)];
        });

    /// <inheritdoc/>
    public Task<string?> MaterializeAsync(AdapterInfo adapter, CancellationToken cancellationToken = default)
    {
        AdapterIds.Validate(adapter.AdapterId);
        if (!IsVersionName(adapter.Version))
            throw new ArgumentException($"'{adapter.Version}' is not a version of this store.", nameof(adapter));
        var folder = Path.Combine(_cacheRoot, adapter.AdapterId, adapter.Version);
        if (File.Exists(Path.Combine(folder, CompleteMarker)))
            return Task.FromResult<string?>(folder);
        return Guard(adapter.AdapterId, () => DownloadAsync(adapter, folder, cancellationToken));
    }

    private async Task<string?> DownloadAsync(AdapterInfo adapter, string folder, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var prefix = VersionPrefix(adapter.AdapterId, adapter.Version);
        var staging = $"{folder}.{Guid.NewGuid():N}.partial";
        Directory.CreateDirectory(staging);
        try
        {
            int files = 0;
            await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).ConfigureAwait(false))
            {
                var name = blob.Name[prefix.Length..];
                if (!PeftFiles.IsPlainFileName(name))
                    continue;
                await _container.GetBlobClient(blob.Name).DownloadToAsync(Path.Combine(staging, name), cancellationToken).ConfigureAwait(false);
                files++;
            }
            if (files == 0)
                return null;
            await File.WriteAllTextAsync(Path.Combine(staging, CompleteMarker), adapter.Version, cancellationToken).ConfigureAwait(false);
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
                Directory.Move(staging, folder);
            }
            catch (IOException) when (File.Exists(Path.Combine(folder, CompleteMarker)))
            {
                // Another reader (another silo sharing this machine) finished the same version first.
            }
            return folder;
        }
        finally
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
        }
    }

    /// <inheritdoc/>
    public Task<AdapterInfo> PutAsync(string adapterId, IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken = default)
    {
        AdapterIds.Validate(adapterId);
        PeftFiles.ValidateUpload(files, _options.MaxUploadBytes);
        return Guard(adapterId, async () =>
        {
            await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            var version = NewVersion();
            var prefix = VersionPrefix(adapterId, version);
            foreach (var (name, bytes) in files)
                await _container.GetBlobClient(prefix + name).UploadAsync(new BinaryData(bytes), overwrite: true, cancellationToken).ConfigureAwait(false);
            long size = files.Values.Sum(b => b.LongLength);
            var metadata = new Dictionary<string, string>
            {
                ["version"] = version,
                ["size"] = size.ToString(CultureInfo.InvariantCulture),
            };
            var pointer = await _container.GetBlobClient(PointerName(adapterId)).UploadAsync(
                new BinaryData(Encoding.UTF8.GetBytes(version)),
                new BlobUploadOptions { Metadata = metadata }, cancellationToken).ConfigureAwait(false);
            await PruneAsync(adapterId, cancellationToken).ConfigureAwait(false);
            return new AdapterInfo(adapterId, version, size, pointer.Value.LastModified);
        });
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string adapterId, CancellationToken cancellationToken = default)
    {
        AdapterIds.Validate(adapterId);
        return Guard(adapterId, async () =>
        {
            await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            // The pointer goes first, so the adapter disappears at once for readers.
            bool existed = (await _container.GetBlobClient(PointerName(adapterId)).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = AdapterPrefix(adapterId) }, cancellationToken).ConfigureAwait(false))
            {
                await _container.GetBlobClient(blob.Name).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                existed = true;
            }
            return existed;
        });
    }

    private async Task PruneAsync(string adapterId, CancellationToken cancellationToken)
    {
        var versionsPrefix = $"{AdapterPrefix(adapterId)}{VersionsFolder}/";
        var byVersion = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = versionsPrefix }, cancellationToken).ConfigureAwait(false))
        {
            var rest = blob.Name[versionsPrefix.Length..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0)
                continue;
            var version = rest[..slash];
            if (!byVersion.TryGetValue(version, out var names))
                byVersion[version] = names = [];
            names.Add(blob.Name);
        }
        // Version names sort by time, so the oldest come first.
        foreach (var (_, names) in byVersion.Take(Math.Max(0, byVersion.Count - _options.RetainedVersions)))
        {
            foreach (var name in names)
                await _container.GetBlobClient(name).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (!_options.CreateContainerIfMissing || Volatile.Read(ref _containerReady) == 1)
            return;
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _containerReady, 1);
    }

    private static AdapterInfo? FromPointer(string adapterId, IDictionary<string, string> metadata, DateTimeOffset lastModified)
    {
        if (!metadata.TryGetValue("version", out var version) || !IsVersionName(version))
            return null;
        long size = metadata.TryGetValue("size", out var s) && long.TryParse(s, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return new AdapterInfo(adapterId, version, size, lastModified);
    }

    private string AdapterPrefix(string adapterId) => $"{_options.Prefix}{adapterId}/";

    private string PointerName(string adapterId) => AdapterPrefix(adapterId) + CurrentBlob;

    private string VersionPrefix(string adapterId, string version) => $"{AdapterPrefix(adapterId)}{VersionsFolder}/{version}/";

    private static string NewVersion() => $"{DateTime.UtcNow:yyyyMMdd'T'HHmmssfffffff'Z'}-{Guid.NewGuid().ToString("N")[..8]}";

    private static bool IsVersionName(string version) =>
        version.Length is > 0 and <= 64 && version.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static async Task<T> Guard<T>(string adapterId, Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (RequestFailedException e)
        {
            throw new AdapterStoreException($"blob storage failed for '{adapterId}': {e.Status} {e.ErrorCode} {FirstLine(e.Message)}", e);
        }
        catch (AggregateException e)
        {
            throw new AdapterStoreException($"blob storage cannot be reached for '{adapterId}': {FirstLine(e.InnerException?.Message ?? e.Message)}", e);
        }
        catch (HttpRequestException e)
        {
            throw new AdapterStoreException($"blob storage cannot be reached for '{adapterId}': {FirstLine(e.Message)}", e);
        }
        catch (IOException e)
        {
            throw new AdapterStoreException($"the adapter cache cannot be written for '{adapterId}': {FirstLine(e.Message)}", e);
        }
    }

    private static string FirstLine(string message)
    {
        int newline = message.IndexOf('\n', StringComparison.Ordinal);
        return (newline < 0 ? message : message[..newline]).Trim();
    }
}
