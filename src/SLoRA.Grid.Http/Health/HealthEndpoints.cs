using SLoRA.Grid.Hosting;
using SLoRA.Grid.Http.Generation;
using SLoRA.Grid.Http.Json;

namespace SLoRA.Grid.Http.Health;

/// <summary>The answer of /health and /ready.</summary>
/// <param name="Status">"ok", "ready" or "not_ready".</param>
/// <param name="Detail">Why, for humans.</param>
/// <param name="GpuSilos">GPU silos in the cluster (for /ready).</param>
public sealed record HealthStatus(string Status, string Detail, int? GpuSilos = null);

/// <summary>
/// GET /health (liveness: the process answers HTTP) and GET /ready (readiness: this silo's engine
/// has started, when it runs one, and the cluster has a GPU silo to serve requests).
/// </summary>
public static class HealthEndpoints
{
    /// <summary>GET /health: 200 while the process serves HTTP.</summary>
    public static IResult Health() => Results.Json(new HealthStatus("ok", "the facade is up"), ApiJson.Options);

    /// <summary>GET /ready: 200 when requests can be served, else 503 saying what is missing.</summary>
    public static async Task<IResult> ReadyAsync(GridFacade facade, IServiceProvider services, CancellationToken cancellationToken)
    {
        var host = services.GetService<GpuEngineHost>();
        if (host is { HasEngine: true, Engine: null })
            return NotReady("this silo's engine is still loading the model");
        int gpus;
        try
        {
            var status = await facade.Grid.GetClusterStatusAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            gpus = status.GpuSilos.Count();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return NotReady($"the cluster cannot be reached: {e.Message}");
        }
        return gpus == 0 ? NotReady("no GPU silo is active in the cluster", 0)
            : Results.Json(new HealthStatus("ready", $"{gpus} GPU silo(s) serving {facade.Models.BaseModelName}", gpus), ApiJson.Options);
    }

    private static IResult NotReady(string detail, int? gpus = null) =>
        Results.Json(new HealthStatus("not_ready", detail, gpus), ApiJson.Options, statusCode: StatusCodes.Status503ServiceUnavailable);
}
