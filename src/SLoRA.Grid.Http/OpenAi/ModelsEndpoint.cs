using SLoRA.Grid.Catalog;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Http.Errors;
using SLoRA.Grid.Http.Generation;
using SLoRA.Grid.Http.Json;

namespace SLoRA.Grid.Http.OpenAi;

/// <summary>GET /v1/models and /v1/models/{id}: the base model first, then every adapter in the store.</summary>
public static class ModelsEndpoint
{
    private const string Owner = "slora-grid";
    private static readonly long Started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Every model.</summary>
    public static async Task<IResult> ListAsync(GridFacade facade, IServiceProvider services)
    {
        var adapters = await facade.Grid.ListAdaptersAsync();
        string baseName = facade.Models.BaseModelName;
        var cards = new List<ModelCard> { BaseCard(baseName, services) };
        cards.AddRange(adapters.Where(a => a.AdapterId != baseName).Select(a => AdapterCard(a, baseName)));
        return Results.Json(new ModelList("list", cards), ApiJson.Options);
    }

    /// <summary>One model, or a 404.</summary>
    public static async Task<IResult> GetAsync(string id, GridFacade facade, IServiceProvider services)
    {
        var target = facade.Models.Resolve(id);
        if (target.IsBase)
            return Results.Json(BaseCard(id, services), ApiJson.Options);
        var info = await facade.Grid.GetAdapterAsync(target.AdapterId!) ?? throw ApiException.ModelNotFound(id);
        return Results.Json(AdapterCard(info, facade.Models.BaseModelName), ApiJson.Options);
    }

    private static ModelCard BaseCard(string name, IServiceProvider services)
    {
        var config = services.GetService<GpuEngineHost>()?.Engine?.Config;
        return new ModelCard(name, "model", Started, Owner, null, null)
        {
            MaxModelLen = config?.MaxPositionEmbeddings,
            Config = config is null ? null : new ModelShape(config.HiddenSize, config.IntermediateSize, config.NumLayers, config.NumHeads,
                config.NumKvHeads, config.HeadDim, config.VocabSize, config.MaxPositionEmbeddings),
        };
    }

    private static ModelCard AdapterCard(AdapterInfo adapter, string baseName) =>
        new(adapter.AdapterId, "model", adapter.LastModified.ToUnixTimeSeconds(), Owner, baseName, baseName);
}
