using Microsoft.Extensions.Options;
using SLoRA.Grid.Client;
using SLoRA.Grid.Generation;
using SLoRA.Grid.Http.Hosting;
using SLoRA.Grid.Http.Metrics;

namespace SLoRA.Grid.Http.Generation;

/// <summary>What every endpoint uses: the grid client, model names, metrics and settings.</summary>
public sealed class GridFacade(SLoRAGridClient grid, ModelResolver models, GridHttpMetrics metrics, IOptions<GridHttpOptions> options)
{
    /// <summary>The typed grid client (the co-hosted silo's cluster client).</summary>
    public SLoRAGridClient Grid { get; } = grid;

    /// <summary>Model names.</summary>
    public ModelResolver Models { get; } = models;

    /// <summary>Settings.</summary>
    public GridHttpOptions Options => options.Value;

    /// <summary>Starts <paramref name="request"/> on <paramref name="target"/>; see <see cref="GenerationStream.StartAsync"/>.</summary>
    public Task<GenerationStream> StartAsync(ModelTarget target, GenerateRequest request, string endpoint,
        IReadOnlyDictionary<string, string>? paramNames, CancellationToken cancellationToken) =>
        GenerationStream.StartAsync(Grid, target, request, metrics, endpoint, paramNames, Options.RetryAfter, cancellationToken);
}
