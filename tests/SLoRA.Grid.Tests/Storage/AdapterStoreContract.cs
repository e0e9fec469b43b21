using SLoRA.Grid.Storage;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Storage;

/// <summary>What every adapter store does, run against each implementation.</summary>
public abstract class AdapterStoreContract
{
    protected abstract IAdapterStore Store { get; }

    private static Dictionary<string, byte[]> Adapter(int rank = 4) => PeftFolders.Files(TinyModel.Config, rank);

    [Fact]
    public async Task A_stored_adapter_has_a_version_a_size_and_its_files()
    {
        var files = Adapter();

        var info = await Store.PutAsync("store-a", files);
        var folder = await Store.MaterializeAsync(info);

        Assert.Equal("store-a", info.AdapterId);
        Assert.Equal(files.Values.Sum(f => (long)f.Length), info.SizeBytes);
        Assert.Equal(info, await Store.GetAsync("store-a"));
        Assert.NotNull(folder);
        foreach (var (name, bytes) in files)
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(folder, name)));
    }

    [Fact]
    public async Task Each_write_is_a_new_version_and_old_versions_go()
    {
        var v1 = await Store.PutAsync("store-versions", Adapter(4));
        var v2 = await Store.PutAsync("store-versions", Adapter(8));
        var v3 = await Store.PutAsync("store-versions", Adapter(2));

        Assert.Equal(3, new[] { v1.Version, v2.Version, v3.Version }.Distinct().Count());
        Assert.Equal(v3.Version, (await Store.GetAsync("store-versions"))!.Version);
        Assert.Null(await Store.MaterializeAsync(v1));
        var folder = await Store.MaterializeAsync(v3);
        Assert.Contains("\"r\":2", await File.ReadAllTextAsync(Path.Combine(folder!, PeftFiles.Config)));
    }

    [Fact]
    public async Task A_missing_adapter_is_null_and_deleting_it_is_false()
    {
        Assert.Null(await Store.GetAsync("store-missing"));
        Assert.False(await Store.DeleteAsync("store-missing"));
    }

    [Fact]
    public async Task Delete_removes_the_adapter_and_list_shows_the_rest_in_order()
    {
        await Store.PutAsync("store-list-b", Adapter());
        await Store.PutAsync("store-list-a", Adapter());
        await Store.PutAsync("store-list-c", Adapter());

        Assert.True(await Store.DeleteAsync("store-list-c"));

        var ids = (await Store.ListAsync()).Select(a => a.AdapterId).Where(id => id.StartsWith("store-list-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["store-list-a", "store-list-b"], ids);
        Assert.Null(await Store.GetAsync("store-list-c"));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData(".hidden")]
    public async Task Invalid_ids_are_refused(string id)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(id, Adapter()));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetAsync(id));
    }

    [Fact]
    public async Task An_upload_without_the_peft_files_or_with_folder_names_is_refused()
    {
        var files = Adapter();
        files.Remove(PeftFiles.Weights);
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync("store-bad", files));

        var sneaky = Adapter();
        sneaky["../x.json"] = [1];
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync("store-bad", sneaky));
        Assert.Null(await Store.GetAsync("store-bad"));
    }
}
