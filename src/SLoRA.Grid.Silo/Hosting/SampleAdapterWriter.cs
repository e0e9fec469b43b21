using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SLoRA.Engine.Adapters;
using SLoRA.Grid.Hosting;

namespace SLoRA.Grid.Silo.Hosting;

/// <summary>
/// On the first run of the embedded default (file-system store, synthetic demo model, no adapter
/// in the store yet) writes a few PEFT adapters with synthetic weights for that model —
/// sample-1 (rank 8 on q_proj, v_proj), sample-2 (rank 16 on the attention projections),
/// sample-3 (rank 32 on every linear layer), and so on — so that a fresh silo has adapters to call.
/// </summary>
internal sealed class SampleAdapterWriter(GridSiloSettings settings, ILogger<SampleAdapterWriter> logger) : IHostedService
{
    private static readonly string[][] Targets =
    [
        ["q_proj", "v_proj"],
        ["q_proj", "k_proj", "v_proj", "o_proj"],
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    ];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (settings.SampleAdapters == 0 || settings.AdapterStore != AdapterStoreKind.FileSystem
            || !string.IsNullOrWhiteSpace(settings.Engine.ModelFolder) || !settings.Engine.Enabled)
            return Task.CompletedTask;
        var root = Path.GetFullPath(settings.AdapterRoot);
        if (Directory.Exists(root) && Directory.EnumerateDirectories(root).Any(d => !Path.GetFileName(d).StartsWith('.')))
            return Task.CompletedTask;
        var model = GpuEngineOptions.SmallDemoModel;
        for (int i = 0; i < settings.SampleAdapters; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string id = $"sample-{i + 1}";
            var targets = Targets[i % Targets.Length];
            int rank = Math.Min(8 << (i % 3), settings.Engine.MaxLoraRank);
            var folder = Path.Combine(root, id);
            var staging = Path.Combine(root, ".staging", $"{id}.{Guid.NewGuid():N}");
            LoraAdapter.Synthetic(model, id, rank, targets, seed: i + 1).Save(staging);
            try
            {
                Directory.Move(staging, folder);
            }
            catch (IOException) when (Directory.Exists(folder))
            {
                // Another silo sharing this folder wrote it first.
                Directory.Delete(staging, recursive: true);
                continue;
            }
            logger.LogInformation("Sample adapter {Index}/{Count}: {Id} (rank {Rank} on {Targets}) written to {Folder}",
                i + 1, settings.SampleAdapters, id, rank, string.Join(", ", targets), folder);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
