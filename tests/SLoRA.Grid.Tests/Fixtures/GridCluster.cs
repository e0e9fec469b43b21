using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;
using Orleans.TestingHost;
using SLoRA.Engine.Serving;
using SLoRA.Grid.Catalog;
using SLoRA.Grid.Client;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Placement;
using SLoRA.Grid.Status;
using SLoRA.Grid.Storage;
using SLoRA.Grid.Storage.FileSystem;

namespace SLoRA.Grid.Tests.Fixtures;

/// <summary>
/// One in-process cluster for the grain tests: three GPU silos running the tiny model on the CPU
/// accelerator and one gateway without an engine, sharing a file-system adapter store, with
/// heartbeats and migration checks fast enough for tests.
/// </summary>
public sealed class GridCluster : IAsyncLifetime
{
    public const string GatewaySiloName = "Silo_3";

    private readonly DirectoryInfo _storeRoot = Directory.CreateTempSubdirectory("slora-grid-store-");

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public SLoRAGridClient Client { get; private set; } = null!;

    public string StoreRoot => _storeRoot.FullName;

    /// <summary>The store every silo shares: PEFT folders under <see cref="StoreRoot"/>, with faults on demand.</summary>
    public FaultyAdapterStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Store = new FaultyAdapterStore(new FileSystemAdapterStore(new FileSystemAdapterStoreOptions { Root = StoreRoot }));
        var builder = new InProcessTestClusterBuilder(4);
        builder.Options.ConfigureFileLogging = Environment.GetEnvironmentVariable("SLORA_TEST_LOGS") == "1";
        var warnings = Environment.GetEnvironmentVariable("SLORA_TEST_WARNINGS");
        builder.ConfigureSilo((silo, orleans) =>
        {
            if (warnings is { Length: > 0 })
                orleans.Services.AddLogging(logging => logging.AddProvider(new WarningFileLogger(Path.Combine(warnings, silo.SiloName + ".log"))));
            orleans.AddSLoRAGrid(engine => TinyModel.Apply(engine, enabled: silo.SiloName != GatewaySiloName));
            orleans.ConfigureGridPlacement(ConfigureFastPlacement);
            orleans.Services.RemoveAll<IAdapterStore>();
            orleans.Services.AddSingleton<IAdapterStore>(Store);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Client = new SLoRAGridClient(Cluster.Client);
        await WaitForViewsAsync();
    }

    public static void ConfigureFastPlacement(GridPlacementOptions o)
    {
        o.HeartbeatPeriod = TimeSpan.FromMilliseconds(150);
        o.MigrationCheckPeriod = TimeSpan.FromMilliseconds(150);
        o.MigrationCooldown = TimeSpan.FromSeconds(1);
        o.MigrationMinGain = 0.1;
        o.OverloadWaitingRequests = 3;
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        _storeRoot.Delete(recursive: true);
    }

    /// <summary>Active silos running an engine.</summary>
    public IReadOnlyList<SiloAddress> GpuSilos =>
        [.. Cluster.GetActiveSilos().Where(s => s.Name != GatewaySiloName).Select(s => s.SiloAddress)];

    /// <summary>The gateway silo.</summary>
    public SiloAddress Gateway => Cluster.GetActiveSilos().Single(s => s.Name == GatewaySiloName).SiloAddress;

    public T Service<T>(SiloAddress silo) where T : notnull => Cluster.GetSiloServiceProvider(silo).GetRequiredService<T>();

    /// <summary>The engine of a GPU silo.</summary>
    public LlmEngine Engine(SiloAddress silo) => Service<GpuEngineHost>(silo).Engine ?? throw new InvalidOperationException($"{silo} has no engine.");

    /// <summary>Registers an adapter of <paramref name="rank"/> through the client SDK.</summary>
    public Task<AdapterInfo> RegisterAsync(string adapterId, int rank = 8, int seed = 0) =>
        Client.RegisterAdapterAsync(adapterId, PeftFolders.Files(TinyModel.Config, rank, seed: seed));

    /// <summary>Activates an adapter on <paramref name="silo"/> through a placement hint.</summary>
    public async Task<AdapterActivationInfo> LoadOnAsync(string adapterId, SiloAddress silo)
    {
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
        try
        {
            return await Client.LoadAdapterAsync(adapterId);
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    /// <summary>Waits until every silo's placement view holds a fresh status of every GPU silo that satisfies <paramref name="condition"/>.</summary>
    public Task WaitForViewsAsync(Func<GpuSiloStatus, bool>? condition = null, string what = "placement views")
    {
        var since = DateTimeOffset.UtcNow;
        return WaitUntilAsync(() =>
        {
            var gpus = GpuSilos;
            return Cluster.GetActiveSilos().All(s =>
            {
                var view = Service<GpuStatusView>(s.SiloAddress);
                return gpus.All(g => g.Equals(s.SiloAddress)
                    || view.Get(g) is { } c && c.Status.Timestamp >= since && (condition?.Invoke(c.Status) ?? true));
            });
        }, TimeSpan.FromSeconds(20), what, DescribeViews);
    }

    private string DescribeViews() => string.Join("; ", Cluster.GetActiveSilos().Select(s =>
        $"{s.Name} sees [{string.Join(", ", Service<GpuStatusView>(s.SiloAddress).Snapshot().Select(c => $"{c.Silo.Endpoint.Port}: #{c.Status.Sequence} {(DateTimeOffset.UtcNow - c.Status.Timestamp).TotalSeconds:0.0}s ago, warm {c.Status.WarmAdapters.Count}"))}]"));

    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what, Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}. {describe?.Invoke()}");
            await Task.Delay(25);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class GridCollection : ICollectionFixture<GridCluster>
{
    public const string Name = "grid cluster";
}
