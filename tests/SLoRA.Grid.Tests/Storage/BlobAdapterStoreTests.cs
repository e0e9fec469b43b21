using SLoRA.Grid.Storage;
using SLoRA.Grid.Storage.Blob;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class BlobAdapterStoreTests : AdapterStoreContract, IDisposable
{
    private readonly DirectoryInfo _cache = Directory.CreateTempSubdirectory("slora-blob-cache-");
    private readonly Azurite _azurite;

    public BlobAdapterStoreTests(Azurite azurite)
    {
        _azurite = azurite;
        // A fresh prefix per test class instance, so tests never see each other's adapters.
        Store = NewStore($"run-{Guid.NewGuid():N}/");
    }

    protected override IAdapterStore Store { get; }

    public void Dispose() => _cache.Delete(recursive: true);

    private BlobAdapterStore NewStore(string prefix, string? connectionString = null) => new(new BlobAdapterStoreOptions
    {
        ConnectionString = connectionString ?? _azurite.ConnectionString,
        ContainerName = "slora-tests",
        Prefix = prefix,
        CacheDirectory = _cache.FullName,
        MaxRetries = 0,
        NetworkTimeout = TimeSpan.FromSeconds(5),
    });

    [Fact]
    public async Task Stores_with_different_prefixes_share_a_container_without_seeing_each_other()
    {
        var other = NewStore($"other-{Guid.NewGuid():N}/");
        await Store.PutAsync("prefixed", PeftFolders.Files(TinyModel.Config, 4));

        Assert.Null(await other.GetAsync("prefixed"));
        Assert.Empty(await other.ListAsync());
    }

    [Fact]
    public async Task An_unreachable_account_is_a_store_error()
    {
        var dead = NewStore("x/", "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;");

        var error = await Assert.ThrowsAsync<AdapterStoreException>(() => dead.GetAsync("anything"));

        Assert.Contains("anything", error.Message);
    }
}
