using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using SLoRA.Grid.Client;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Http.Adapters;
using SLoRA.Grid.Http.Errors;
using SLoRA.Grid.Http.Generation;
using SLoRA.Grid.Http.Health;
using SLoRA.Grid.Http.Metrics;
using SLoRA.Grid.Http.OpenAi;
using SLoRA.Grid.Http.Tgi;

namespace SLoRA.Grid.Http.Hosting;

/// <summary>Adds the HTTP facade to a host that has an Orleans silo (or client) and maps its endpoints.</summary>
public static class GridHttpExtensions
{
    /// <summary>Meters exported on /metrics: the facade's, the engine's, Orleans' own, and ASP.NET Core's.</summary>
    public static IReadOnlyList<string> ExportedMeters { get; } =
        [GridHttpMetrics.MeterName, EngineMetrics.MeterName, "Microsoft.Orleans*", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    /// <summary>
    /// Registers the facade's services, configured from the "SLoRA:Http" section (see
    /// <see cref="GridHttpOptions"/>) and then <paramref name="configure"/>, and the OpenTelemetry
    /// metrics pipeline with its Prometheus exporter. The host must provide an
    /// <see cref="IClusterClient"/> (a co-hosted silo does).
    /// </summary>
    public static IHostApplicationBuilder AddSLoRAGridHttp(this IHostApplicationBuilder builder, Action<GridHttpOptions>? configure = null)
    {
        var services = builder.Services;
        var options = services.AddOptions<GridHttpOptions>().Bind(builder.Configuration.GetSection(GridHttpOptions.Section));
        if (configure is not null)
            options.Configure(configure);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GridHttpOptions>, GridHttpOptionsValidator>());

        services.AddSLoRAGridClient();
        services.TryAddSingleton<ModelResolver>();
        services.TryAddSingleton<GridHttpMetrics>();
        services.TryAddSingleton<GridFacade>();
        services.TryAddSingleton(sp => new EngineMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetService<GpuEngineHost>(), sp.GetService<WarmAdapterCache>()));
        services.TryAddSingleton<ApiErrorFilter>();
        services.TryAddSingleton<ApiKeyFilter>();

        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter([.. ExportedMeters])
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        return builder;
    }

    /// <summary>
    /// Maps the API: POST /v1/completions, /v1/chat/completions, /generate, /generate_stream;
    /// GET /v1/models[/{id}]; PUT, GET, DELETE /v1/adapters[/{id}] — all behind the API-key check
    /// when keys are configured — and GET /health, /ready and /metrics, which need none.
    /// </summary>
    public static IEndpointRouteBuilder MapSLoRAGridApi(this IEndpointRouteBuilder app)
    {
        // The engine's observable instruments exist once this is created.
        app.ServiceProvider.GetRequiredService<EngineMetrics>();

        var api = app.MapGroup("").AddEndpointFilter<ApiErrorFilter>().AddEndpointFilter<ApiKeyFilter>();
        api.MapPost("/v1/completions", CompletionsEndpoint.HandleAsync);
        api.MapPost("/v1/chat/completions", ChatCompletionsEndpoint.HandleAsync);
        api.MapGet("/v1/models", ModelsEndpoint.ListAsync);
        api.MapGet("/v1/models/{id}", ModelsEndpoint.GetAsync);
        api.MapPost("/generate", GenerateEndpoints.GenerateAsync);
        api.MapPost("/generate_stream", GenerateEndpoints.GenerateStreamAsync);
        api.MapPut("/v1/adapters/{id}", AdapterEndpoints.PutAsync).DisableAntiforgery();
        api.MapGet("/v1/adapters", AdapterEndpoints.ListAsync);
        api.MapGet("/v1/adapters/{id}", AdapterEndpoints.GetAsync);
        api.MapDelete("/v1/adapters/{id}", AdapterEndpoints.DeleteAsync);

        var open = app.MapGroup("").AddEndpointFilter<ApiErrorFilter>();
        open.MapGet("/health", HealthEndpoints.Health);
        open.MapGet("/ready", HealthEndpoints.ReadyAsync);
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    private sealed class GridHttpOptionsValidator : IValidateOptions<GridHttpOptions>
    {
        public ValidateOptionsResult Validate(string? name, GridHttpOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException e)
            {
                return ValidateOptionsResult.Fail($"{GridHttpOptions.Section}: {e.Message}");
            }
        }
    }
}
