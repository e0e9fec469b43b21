using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using SLoRA.Engine.Execution;
using SLoRA.Engine.Scheduling;
using SLoRA.Grid.Hosting;

namespace SLoRA.Grid.Silo.Hosting;

/// <summary>Makes a host an SLoRA.Grid silo from its configuration; other parts of the process (the HTTP facade) are added beside it.</summary>
public static class GridHostBuilderExtensions
{
    /// <summary>
    /// Adds an Orleans silo running the grid, configured from the "SLoRA:Grid" section (see
    /// <see cref="GridSiloSettings"/>). The engine starts before the silo joins the cluster and
    /// stops after it has left. <paramref name="configureSilo"/> runs last, for anything else.
    /// </summary>
    public static IHostApplicationBuilder AddSLoRAGrid(this IHostApplicationBuilder builder, Action<ISiloBuilder>? configureSilo = null)
    {
        var settings = builder.Configuration.GetSection(GridSiloSettings.Section).Get<GridSiloSettings>() ?? new GridSiloSettings();
        settings.Validate();
        builder.Services.AddSingleton(settings);

        // Registered before the silo's own hosted service: hosted services start in order and stop in reverse.
        builder.Services.AddHostedService<SampleAdapterWriter>();
        builder.Services.TryAddSingleton<GpuEngineHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GpuEngineHost>());

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            if (settings.Clustering == ClusteringMode.AzureTable)
            {
                silo.ConfigureEndpoints(settings.SiloPort, settings.GatewayPort);
                silo.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(settings.StorageConnectionString));
            }
            else
            {
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort,
                    new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, settings.PrimarySiloPort), settings.ServiceId, settings.ClusterId);
            }
            silo.AddSLoRAGrid(engine => Apply(settings.Engine, engine));
            if (settings.AdapterStore == AdapterStoreKind.Blob)
            {
                silo.UseBlobAdapterStore(o =>
                {
                    o.ConnectionString = settings.StorageConnectionString;
                    o.ContainerName = settings.BlobContainer;
                    o.Prefix = settings.BlobPrefix;
                });
            }
            else
            {
                silo.UseFileSystemAdapterStore(settings.AdapterRoot);
            }
            if (settings.AdapterWeights == AdapterWeightsKind.Synthetic)
                silo.UseSyntheticAdapterWeights();
            configureSilo?.Invoke(silo);
        });
        return builder;
    }

    private static void Apply(EngineSettings s, GpuEngineOptions engine)
    {
        engine.Enabled = s.Enabled;
        engine.ModelFolder = string.IsNullOrWhiteSpace(s.ModelFolder) ? null : s.ModelFolder;
        if (engine.ModelFolder is { } folder)
            engine.ModelName = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        engine.Engine = engine.Engine with
        {
            Accelerator = s.Accelerator,
            DeviceIndex = s.DeviceIndex,
            MaxWaitingRequests = s.MaxWaitingRequests,
            Runner = new ModelRunnerOptions
            {
                NumPages = s.NumPages,
                MaxBatchTokens = s.MaxBatchTokens,
                MaxLogitRows = Math.Min(s.MaxBatchTokens, s.MaxBatchSequences),
                MaxLoraRank = s.MaxLoraRank,
                PinnedAdapterBytes = s.PinnedAdapterBytes,
            },
            Scheduler = new SchedulerOptions { MaxBatchTokens = s.MaxBatchTokens, MaxBatchSequences = s.MaxBatchSequences },
        };
    }
}
