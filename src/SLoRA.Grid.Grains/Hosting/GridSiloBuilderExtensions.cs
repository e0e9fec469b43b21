using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Streams;
using SLoRA.Grid.Grains;
using SLoRA.Grid.Placement;
using SLoRA.Grid.Storage;
using SLoRA.Grid.Storage.Blob;
using SLoRA.Grid.Storage.FileSystem;

namespace SLoRA.Grid.Hosting;

/// <summary>Adds the grid to an Orleans silo.</summary>
public static class GridSiloBuilderExtensions
{
    /// <summary>
    /// Adds the grid: this silo's engine (<see cref="GpuEngineHost"/>, started with the host), the
    /// adapter and GPU grains with their placement directors, the warm cache, the placement view,
    /// and the "slora" memory stream provider (implicit subscriptions only) unless
    /// <paramref name="addMemoryStreams"/> is false and the caller adds a provider of that name.
    /// The adapter store defaults to PEFT folders under ./adapters; see
    /// <see cref="UseFileSystemAdapterStore"/> and <see cref="UseBlobAdapterStore"/>.
    /// </summary>
    public static ISiloBuilder AddSLoRAGrid(this ISiloBuilder builder, Action<GpuEngineOptions>? configureEngine = null, bool addMemoryStreams = true)
    {
        var services = builder.Services;
        AddValidated(services, configureEngine, o => o.Validate());
        AddValidated<GridPlacementOptions>(services, null, o => o.Validate());
        AddValidated<WarmCacheOptions>(services, null, o => o.Validate());
        AddValidated<FileSystemAdapterStoreOptions>(services, null, o => o.Validate());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GpuEngineHost>();
        services.AddHostedService(sp => sp.GetRequiredService<GpuEngineHost>());
        services.TryAddSingleton<WarmAdapterCache>();
        services.TryAddSingleton<GpuStatusView>();
        services.TryAddSingleton<LocalGpuStatus>();
        services.TryAddSingleton<MigrationAdvisor>();
        services.TryAddSingleton<AdapterFetcher>();
        services.TryAddSingleton<AdapterValidator>();
        services.TryAddSingleton<ActiveAdapterRegistry>();
        services.TryAddSingleton<IAdapterLoader, PeftAdapterLoader>();
        services.TryAddSingleton<IAdapterStore>(sp => new FileSystemAdapterStore(sp.GetRequiredService<IOptions<FileSystemAdapterStoreOptions>>().Value));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, GridSiloStartup>();

        services.AddPlacementDirector<AdapterPlacement, AdapterPlacementDirector>();
        services.AddPlacementDirector<SiloPinnedPlacement, SiloPinnedPlacementDirector>();
        if (addMemoryStreams)
            builder.AddMemoryStreams(GridNames.StreamProvider, streams => streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly));
        return builder;
    }

    /// <summary>Tunes placement, heartbeats and migration.</summary>
    public static ISiloBuilder ConfigureGridPlacement(this ISiloBuilder builder, Action<GridPlacementOptions> configure)
    {
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>Sets how much host memory keeps adapters warm after their grains leave.</summary>
    public static ISiloBuilder ConfigureWarmCache(this ISiloBuilder builder, Action<WarmCacheOptions> configure)
    {
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>Serves adapters from PEFT folders under <paramref name="root"/> (root/&lt;id&gt;/adapter_config.json ...).</summary>
    public static ISiloBuilder UseFileSystemAdapterStore(this ISiloBuilder builder, string root)
    {
        builder.Services.Configure<FileSystemAdapterStoreOptions>(o => o.Root = root);
        builder.Services.RemoveAll<IAdapterStore>();
        builder.Services.AddSingleton<IAdapterStore>(sp => new FileSystemAdapterStore(sp.GetRequiredService<IOptions<FileSystemAdapterStoreOptions>>().Value));
        return builder;
    }

    /// <summary>Serves adapters from Azure Blob Storage (a container, a prefix per adapter id, versions).</summary>
    public static ISiloBuilder UseBlobAdapterStore(this ISiloBuilder builder, Action<BlobAdapterStoreOptions> configure)
    {
        AddValidated(builder.Services, configure, o => o.Validate());
        builder.Services.RemoveAll<IAdapterStore>();
        builder.Services.AddSingleton<IAdapterStore>(sp => new BlobAdapterStore(sp.GetRequiredService<IOptions<BlobAdapterStoreOptions>>().Value));
        return builder;
    }

    /// <summary>
    /// Loads dummy weights of the shape adapter_config.json gives (rank, target modules) instead of
    /// reading adapter_model.safetensors: for benchmarks with thousands of adapters, and tests.
    /// </summary>
    public static ISiloBuilder UseSyntheticAdapterWeights(this ISiloBuilder builder)
    {
        builder.Services.RemoveAll<IAdapterLoader>();
        builder.Services.AddSingleton<IAdapterLoader, SyntheticAdapterLoader>();
        return builder;
    }

    private static void AddValidated<T>(IServiceCollection services, Action<T>? configure, Action<T> validate) where T : class
    {
        var options = services.AddOptions<T>();
        if (configure is not null)
            options.Configure(configure);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>>(new OptionsValidator<T>(validate)));
    }
}
