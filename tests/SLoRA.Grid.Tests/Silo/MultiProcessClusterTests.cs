using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using SLoRA.Grid.Client;
using SLoRA.Grid.Generation;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Silo;

[Collection(AzuriteCollection.Name)]
public sealed class MultiProcessClusterTests(Azurite azurite)
{
    [Fact]
    public async Task Silo_processes_cluster_through_azure_tables_and_serve_adapters_from_blob_storage()
    {
        var clusterId = $"t{Guid.NewGuid():N}"[..16];
        var settings = new Dictionary<string, string>
        {
            ["Clustering"] = "AzureTable",
            ["ClusterId"] = clusterId,
            ["StorageConnectionString"] = azurite.ConnectionString,
            ["AdapterStore"] = "Blob",
            ["BlobContainer"] = "slora-multiprocess",
            ["BlobPrefix"] = clusterId + "/",
            ["AdapterWeights"] = "Synthetic",
            ["Engine:Accelerator"] = "Cpu",
            ["Engine:NumPages"] = "512",
            ["Engine:MaxBatchTokens"] = "64",
            ["Engine:MaxBatchSequences"] = "8",
            ["Engine:MaxLoraRank"] = "16",
        };
        var work = Directory.CreateTempSubdirectory("slora-silos-");
        var first = new SiloProcess(settings, work.FullName);
        var second = new SiloProcess(settings, work.FullName);
        try
        {
            await Task.WhenAll(first.WaitStartedAsync(TimeSpan.FromSeconds(60)), second.WaitStartedAsync(TimeSpan.FromSeconds(60)));

            var builder = Host.CreateApplicationBuilder();
            builder.UseOrleansClient(client =>
            {
                client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "slora-grid"));
                client.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(azurite.ConnectionString));
            });
            builder.Services.AddSLoRAGridClient();
            using var host = builder.Build();
            await host.StartAsync();
            var grid = host.Services.GetRequiredService<SLoRAGridClient>();

            await GridCluster.WaitUntilAsync(() => grid.GetClusterStatusAsync().Result.GpuSilos.Count() == 2, TimeSpan.FromSeconds(90), "two GPU silos"); // generous: CI runs both test assemblies at once on 2 cores
            await grid.RegisterAdapterAsync("mp-a", PeftFolders.Files(TinyModel.Config, rank: 8));
            var result = await grid.GenerateToEndAsync("mp-a", GenerateRequest.ForText("Once upon a time", new SamplingOptions { MaxNewTokens = 5, IgnoreEos = true }));

            Assert.Equal(5, result.TokenIds.Count);
            var status = await grid.GetClusterStatusAsync();
            Assert.Equal(status.WhereIs("mp-a"), (await grid.LoadAdapterAsync("mp-a")).Silo);
            Assert.Contains(status.WhereIs("mp-a")!.Endpoint.Port, new[] { first.SiloPort, second.SiloPort });
            await host.StopAsync();
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{e}{Environment.NewLine}--- silo 1 ---{Environment.NewLine}{first.Output}{Environment.NewLine}--- silo 2 ---{Environment.NewLine}{second.Output}");
        }
        finally
        {
            first.Dispose();
            second.Dispose();
            work.Delete(recursive: true);
        }
    }
}
