using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using SLoRA.Grid.Http.Generation;

namespace SLoRA.Grid.Silo.Hosting;

/// <summary>Where the silo's HTTP facade listens, and saying so on the console.</summary>
public static class ServingAnnouncement
{
    /// <summary>The address used when none is configured: loopback only, as the embedded default needs no API key.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8000";

    /// <summary>
    /// Listens on <see cref="DefaultUrl"/> unless an address is configured (--urls,
    /// ASPNETCORE_URLS, URLS or the "Urls" setting).
    /// </summary>
    public static WebApplicationBuilder UseDefaultUrl(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
            builder.WebHost.UseUrls(DefaultUrl);
        return builder;
    }

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
