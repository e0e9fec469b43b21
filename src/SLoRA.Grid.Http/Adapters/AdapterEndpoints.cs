using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using SLoRA.Grid.Catalog;
using SLoRA.Grid.Client;
using SLoRA.Grid.Errors;
using SLoRA.Grid.Http.Errors;
using SLoRA.Grid.Http.Generation;
using SLoRA.Grid.Http.Json;
using SLoRA.Grid.Storage;

namespace SLoRA.Grid.Http.Adapters;

/// <summary>
/// Adapter management: PUT /v1/adapters/{id} uploads a new version (multipart/form-data with the
/// two PEFT files, checked against the base model before it is stored), GET lists or shows one
/// with where it is resident, DELETE removes it and unloads it everywhere.
/// </summary>
public static class AdapterEndpoints
{
    /// <summary>PUT /v1/adapters/{id}: 201 with the adapter for a new id, 200 for a new version.</summary>
    public static async Task<IResult> PutAsync(string id, HttpContext context, GridFacade facade)
    {
        CheckId(id, facade);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = facade.Options.MaxUploadBytes;
        var files = await ReadFilesAsync(context, facade.Options.MaxUploadBytes);
        try
        {
            PeftFiles.ValidateUpload(files, facade.Options.MaxUploadBytes);
        }
        catch (ArgumentException e)
        {
            throw ApiException.BadRequest(e.Message, "file", "invalid_adapter");
        }
        bool existed = await facade.Grid.GetAdapterAsync(id) is not null;
        AdapterInfo info;
        try
        {
            info = await facade.Grid.RegisterAdapterAsync(id, files);
        }
        catch (AdapterRejectedException e)
        {
            // The engine's own check: the message says which rule the adapter breaks.
            throw ApiException.BadRequest(e.Message, "file", "invalid_adapter");
        }
        var view = await ViewAsync(facade.Grid, info);
        return existed ? Results.Json(view, ApiJson.Options) : Results.Json(view, ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>GET /v1/adapters.</summary>
    public static async Task<IResult> ListAsync(GridFacade facade)
    {
        var adapters = await facade.Grid.ListAdaptersAsync();
        var status = await facade.Grid.GetClusterStatusAsync();
        return Results.Json(new AdapterList("list", [.. adapters.Select(a => View(a, status))]), ApiJson.Options);
    }

    /// <summary>GET /v1/adapters/{id}.</summary>
    public static async Task<IResult> GetAsync(string id, GridFacade facade)
    {
        var info = await facade.Grid.GetAdapterAsync(CheckExisting(id)) ?? throw NotFound(id);
        return Results.Json(await ViewAsync(facade.Grid, info), ApiJson.Options);
    }

    /// <summary>DELETE /v1/adapters/{id}.</summary>
    public static async Task<IResult> DeleteAsync(string id, GridFacade facade)
    {
        if (!await facade.Grid.DeleteAdapterAsync(CheckExisting(id)))
            throw NotFound(id);
        return Results.Json(new AdapterDeleted(id, "adapter", true), ApiJson.Options);
    }

    private static void CheckId(string id, GridFacade facade)
    {
        if (!AdapterIds.IsValid(id))
            throw ApiException.BadRequest(AdapterIds.Describe(id), "id", "invalid_adapter_id");
        if (id == facade.Models.BaseModelName)
            throw ApiException.BadRequest($"'{id}' is the base model's name; an adapter needs another id.", "id", "invalid_adapter_id");
    }

    private static string CheckExisting(string id) => AdapterIds.IsValid(id) ? id : throw NotFound(id);

    private static ApiException NotFound(string id) =>
        new(StatusCodes.Status404NotFound, $"The adapter '{id}' does not exist.", "invalid_request_error", "id", "adapter_not_found");

    /// <summary>
    /// The PEFT files of a multipart upload, each named by its form field when that is a PEFT file
    /// name (curl -F adapter_config.json=@...), else by its file name.
    /// </summary>
    private static async Task<Dictionary<string, byte[]>> ReadFilesAsync(HttpContext context, long maxBytes)
    {
        var request = context.Request;
        if (!request.HasFormContentType)
        {
            if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
            {
                using var body = await JsonBody.ReadObjectAsync(request, context.RequestAborted);
                if (body.RootElement.TryGetProperty("blob", out _))
                    throw ApiException.BadRequest("blob references are not supported by this silo's adapter store; upload the files as multipart/form-data.", "blob", "unsupported_parameter");
            }
            throw ApiException.BadRequest("upload the adapter as multipart/form-data with the files adapter_config.json and adapter_model.safetensors.", "file", "invalid_adapter");
        }
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = maxBytes }, context.RequestAborted);
        }
        catch (InvalidDataException e)
        {
            throw ApiException.BadRequest($"the multipart body could not be read: {e.Message}", "file", "invalid_adapter");
        }
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var file in form.Files)
        {
            string name = file.Name is PeftFiles.Config or PeftFiles.Weights ? file.Name : Path.GetFileName(file.FileName);
            using var buffer = new MemoryStream((int)Math.Min(file.Length, int.MaxValue));
            await file.CopyToAsync(buffer, context.RequestAborted);
            files[name] = buffer.ToArray();
        }
        return files;
    }

    private static async Task<AdapterView> ViewAsync(SLoRAGridClient grid, AdapterInfo info) =>
        View(info, await grid.GetClusterStatusAsync());

    private static AdapterView View(AdapterInfo info, ClusterStatus status) => new(
        info.AdapterId, "adapter", info.Version, info.SizeBytes, info.LastModified.ToUnixTimeSeconds(),
        [.. status.Silos.Where(s => s.ActiveAdapters.Contains(info.AdapterId)).Select(s => new SiloPlace(s.Silo.ToString(), s.Device))],
        [.. status.Silos.Where(s => s.WarmAdapters.Contains(info.AdapterId)).Select(s => s.Silo.ToString())]);
}
