using SLoRA.Grid.Storage;
using SLoRA.Grid.Storage.FileSystem;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Storage;

public sealed class FileSystemAdapterStoreTests : AdapterStoreContract, IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("slora-fs-store-");

    public FileSystemAdapterStoreTests() => Store = new FileSystemAdapterStore(new FileSystemAdapterStoreOptions { Root = _root.FullName });

    protected override IAdapterStore Store { get; }

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task A_folder_dropped_in_by_hand_is_an_adapter()
    {
        PeftFolders.Write(Path.Combine(_root.FullName, "by-hand"), TinyModel.Config, rank: 4);

        var info = await Store.GetAsync("by-hand");

        Assert.NotNull(info);
        Assert.StartsWith("fs-", info.Version);
        Assert.Equal(Path.Combine(_root.FullName, "by-hand"), await Store.MaterializeAsync(info));
    }
}
