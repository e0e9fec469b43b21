using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using SLoRA.Grid.Catalog;

namespace SLoRA.Grid.Storage.FileSystem;

/// <summary>
/// PEFT folders on a local or shared file system: root/&lt;id&gt;/ is the adapter, as a user would
/// drop it there. A write goes to a staging folder and is swapped in by renames, so a reader
/// sees the old or the new folder. The version is the id of the last write (a hidden marker
/// file), or a fingerprint of the files' sizes and times for folders written by hand.
/// </summary>
public sealed class FileSystemAdapterStore : IAdapterStore
{
    private const string VersionMarker = ".slora-version";
    private readonly FileSystemAdapterStoreOptions _options;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    /// <summary>A store over <see cref="FileSystemAdapterStoreOptions.Root"/> (created if missing).</summary>
    public FileSystemAdapterStore(FileSystemAdapterStoreOptions options)
    {
        options.Validate();
        _options = options;
        Root = Path.GetFullPath(options.Root);
    }

    /// <summary>The absolute root folder.</summary>
    public string Root { get; }

    /// <inheritdoc/>
    public Task<AdapterInfo?> GetAsync(string adapterId, CancellationToken cancellationToken = default)
    {
        AdapterIds.Validate(adapterId);
        return Task.FromResult(Guard(() => Describe(adapterId)));
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<AdapterInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(Guard<IReadOnlyList<AdapterInfo>>(() => !Directory.Exists(Root) ? [] :
            [.. Directory.EnumerateDirectories(Root)
                .Select(Path.GetFileName)
                .Where(AdapterIds.IsValid)
                .Order(StringComparer.Ordinal)
                .Select(id => Describe(id!))
                .OfType<AdapterInfo>()]));

    /// <inheritdoc/>
    public Task<string?> MaterializeAsync(AdapterInfo adapter, CancellationToken cancellationToken = default)
    {
        AdapterIds.Validate(adapter.AdapterId);
        return Task.FromResult(Guard(() => Describe(adapter.AdapterId)?.Version == adapter.Version ? FolderOf(adapter.AdapterId) : null));
    }

    /// <inheritdoc/>
    public async Task<AdapterInfo> PutAsync(string adapterId, IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken = default)
    {
        AdapterIds.Validate(adapterId);
        PeftFiles.ValidateUpload(files, _options.MaxUploadBytes);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var staging = Path.Combine(Root, ".staging", $"{adapterId}.{Guid.NewGuid():N}");
            try
            {
                Directory.CreateDirectory(staging);
                foreach (var (name, bytes) in files)
                    await File.WriteAllBytesAsync(Path.Combine(staging, name), bytes, cancellationToken).ConfigureAwait(false);
                await File.WriteAllTextAsync(Path.Combine(staging, VersionMarker), NewVersion(), cancellationToken).ConfigureAwait(false);
                SwapIn(staging, FolderOf(adapterId));
            }
            catch (IOException e)
            {
                throw new AdapterStoreException($"could not write adapter '{adapterId}' under {Root}: {e.Message}", e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new AdapterStoreException($"could not write adapter '{adapterId}' under {Root}: {e.Message}", e);
            }
            finally
            {
                if (Directory.Exists(staging))
                    Directory.Delete(staging, recursive: true);
            }
        }
        finally
        {
            _writeLock.Release();
        }
        return Describe(adapterId) ?? throw new AdapterStoreException($"adapter '{adapterId}' vanished right after it was written.");
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(string adapterId, CancellationToken cancellationToken = default)
    {
        AdapterIds.Validate(adapterId);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Guard(() =>
            {
                var folder = FolderOf(adapterId);
                if (!Directory.Exists(folder))
                    return false;
                var trash = Path.Combine(Root, ".trash", $"{adapterId}.{Guid.NewGuid():N}");
                Directory.CreateDirectory(Path.GetDirectoryName(trash)!);
                Directory.Move(folder, trash);
                Directory.Delete(trash, recursive: true);
                return true;
            });
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private string FolderOf(string adapterId) => Path.Combine(Root, adapterId);

    private AdapterInfo? Describe(string adapterId)
    {
        var folder = new DirectoryInfo(FolderOf(adapterId));
        if (!folder.Exists || !File.Exists(Path.Combine(folder.FullName, PeftFiles.Config)))
            return null;
        var files = folder.GetFiles().Where(f => f.Name != VersionMarker).OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var marker = Path.Combine(folder.FullName, VersionMarker);
        string version = File.Exists(marker) ? File.ReadAllText(marker).Trim() : Fingerprint(files);
        var modified = files.Count == 0 ? folder.LastWriteTimeUtc : files.Max(f => f.LastWriteTimeUtc);
        return new AdapterInfo(adapterId, version, files.Sum(f => f.Length), new DateTimeOffset(modified, TimeSpan.Zero));
    }

    private static string Fingerprint(IEnumerable<FileInfo> files)
    {
        var text = new StringBuilder();
        foreach (var f in files)
            text.Append(CultureInfo.InvariantCulture, $"{f.Name}:{f.Length}:{f.LastWriteTimeUtc.Ticks};");
        return "fs-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    private static string NewVersion() => $"{DateTime.UtcNow:yyyyMMdd'T'HHmmssfff'Z'}-{Guid.NewGuid().ToString("N")[..8]}";

    private void SwapIn(string staging, string folder)
    {
        if (Directory.Exists(folder))
        {
            var trash = Path.Combine(Root, ".trash", $"{Path.GetFileName(folder)}.{Guid.NewGuid():N}");
            Directory.CreateDirectory(Path.GetDirectoryName(trash)!);
            Directory.Move(folder, trash);
            Directory.Move(staging, folder);
            Directory.Delete(trash, recursive: true);
        }
        else
        {
            Directory.Move(staging, folder);
        }
    }

    private T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (IOException e)
        {
            throw new AdapterStoreException($"the adapter folder {Root} cannot be read: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new AdapterStoreException($"the adapter folder {Root} cannot be read: {e.Message}", e);
        }
    }
}
