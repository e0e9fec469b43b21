using Microsoft.Extensions.Options;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Http.Errors;
using SLoRA.Grid.Http.Hosting;

namespace SLoRA.Grid.Http.Generation;

/// <summary>
/// Turns a model name into a <see cref="ModelTarget"/>: the base model's name runs without an
/// adapter; anything else is an adapter id, and an id the grid does not know is a 404 — the base
/// model never answers for an unknown adapter.
/// </summary>
public sealed class ModelResolver(IOptions<GridHttpOptions> options, IServiceProvider services)
{
    private readonly GpuEngineHost? _host = services.GetService<GpuEngineHost>();

    /// <summary>The base model's name.</summary>
    public string BaseModelName =>
        options.Value.ModelName is { Length: > 0 } name ? name : _host?.Options.ModelName ?? "base";

    /// <summary>The target <paramref name="model"/> names; <paramref name="param"/> is the field, for errors.</summary>
    public ModelTarget Resolve(string? model, string param = "model")
    {
        if (string.IsNullOrEmpty(model))
            throw ApiException.BadRequest($"'{param}' is required: the base model's name ('{BaseModelName}') or an adapter id.", param, "missing_required_parameter");
        if (model == BaseModelName)
            return new ModelTarget(model, null);
        if (!AdapterIds.IsValid(model))
            throw ApiException.ModelNotFound(model, param);
        return new ModelTarget(model, model);
    }
}
