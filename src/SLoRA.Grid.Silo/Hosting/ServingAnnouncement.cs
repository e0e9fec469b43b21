using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using SLoRA.Grid.Http.Generation;

namespace SLoRA.Grid.Silo.Hosting;

/// <summary>Says on the console, once everything has started, where the API listens and how to call it.</summary>
public static class ServingAnnouncement
{
    /// <summary>Prints the listening URLs and a sample request when the application has started.</summary>
    public static WebApplication AnnounceWhenServing(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var url = addresses.FirstOrDefault() ?? "(no HTTP address)";
            var model = app.Services.GetRequiredService<ModelResolver>().BaseModelName;
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SLoRA.Grid.Silo");
            logger.LogInformation("SLoRA.Grid is serving {Model} on {Urls} (OpenAI API at {Url}/v1, S-LoRA API at {Url}/generate_stream, metrics at {Url}/metrics)",
                model, string.Join(", ", addresses), url, url, url);
            Console.WriteLine($"Listening on {url}");
        });
        return app;
    }
}
