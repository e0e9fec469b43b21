using SLoRA.Grid.Catalog;
using SLoRA.Grid.Errors;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Storage;

namespace SLoRA.Grid.Grains;

/// <summary>
/// Checks an upload the way a GPU silo will load it: the PEFT files parse and the adapter fits the
/// base model and the rank limit. Needs the engine's model, so it runs on a GPU silo.
/// </summary>
internal sealed class AdapterValidator(IAdapterLoader loader, GpuEngineHost host)
{
    /// <summary>Throws <see cref="AdapterRejectedException"/> when the upload would not load here.</summary>
    public async Task CheckAsync(AdapterUpload upload)
    {
        var engine = await host.GetEngineAsync();
        int maxRank = host.Options.Engine.Runner.MaxLoraRank;
        var folder = Path.Combine(Path.GetTempPath(), "slora-upload-check", Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(folder);
            foreach (var (name, bytes) in upload.Files)
                await File.WriteAllBytesAsync(Path.Combine(folder, name), bytes);
            string? problem;
            try
            {
                var adapter = await Task.Run(() => loader.Load(folder, engine.Config, maxRank, upload.AdapterId));
                problem = AdapterFit.Problem(adapter, engine.Config, maxRank);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                problem = e.Message;
            }
            if (problem is not null)
                throw new AdapterRejectedException(upload.AdapterId, problem);
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }
}
