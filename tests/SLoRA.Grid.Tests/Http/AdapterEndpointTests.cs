using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SLoRA.Engine.Adapters;
using Microsoft.Extensions.DependencyInjection;

namespace SLoRA.Grid.Tests.Http;

/// <summary>PUT, GET and DELETE /v1/adapters, and /v1/models.</summary>
[Collection(HttpCollection.Name)]
public sealed class AdapterEndpointTests(HttpGrid grid)
{
    private Uri Url(string path) => new(grid.BaseUrl, path);

    [Fact]
    public async Task An_adapter_uploaded_over_http_is_listed_served_shown_where_resident_and_deleted()
    {
        var adapter = LoraAdapter.Synthetic(HttpGrid.Engine(grid.A).Config, "http-crud", 8, ["q_proj", "v_proj"], seed: 7);

        using var put = await grid.Http.PutAsync(Url("/v1/adapters/http-crud"), HttpGrid.AdapterUpload(adapter));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var again = await grid.Http.PutAsync(Url("/v1/adapters/http-crud"), HttpGrid.AdapterUpload(adapter));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var models = await grid.Http.GetFromJsonAsync<JsonElement>(Url("/v1/models"));
        var ids = models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Equal(HttpGrid.BaseModel, ids[0]);
        Assert.Contains("http-crud", ids);
        Assert.Equal(512, models.GetProperty("data")[0].GetProperty("max_model_len").GetInt32());

        await grid.PostForJsonAsync("/v1/completions", new { model = "http-crud", prompt = "Hi", max_tokens = 2 });
        var shown = await grid.Http.GetFromJsonAsync<JsonElement>(Url("/v1/adapters/http-crud"));
        Assert.Equal("http-crud", shown.GetProperty("id").GetString());
        var active = Assert.Single(shown.GetProperty("active_on").EnumerateArray());
        var silos = new[] { grid.A, grid.B }.Select(s => s.Services.GetRequiredService<Orleans.Runtime.ILocalSiloDetails>().SiloAddress.ToString());
        Assert.Contains(active.GetProperty("silo").GetString(), silos);
        var list = await grid.Http.GetFromJsonAsync<JsonElement>(Url("/v1/adapters"));
        Assert.Contains(list.GetProperty("data").EnumerateArray(), a => a.GetProperty("id").GetString() == "http-crud");

        using var delete = await grid.Http.DeleteAsync(Url("/v1/adapters/http-crud"));
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        using var gone = await grid.Http.GetAsync(Url("/v1/adapters/http-crud"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var generate = await grid.PostJsonAsync("/v1/completions", """{"model": "http-crud", "prompt": "Hi"}""");
        Assert.Equal("model_not_found", (await ErrorBody.ReadAsync(generate, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        using var deleteAgain = await grid.Http.DeleteAsync(Url("/v1/adapters/http-crud"));
        Assert.Equal(HttpStatusCode.NotFound, deleteAgain.StatusCode);
    }

    [Fact]
    public async Task An_adapter_above_the_rank_limit_is_refused_with_the_engines_message()
    {
        var adapter = LoraAdapter.Synthetic(HttpGrid.Engine(grid.A).Config, "http-rank", HttpGrid.MaxLoraRank * 2, ["q_proj"], seed: 3);

        using var put = await grid.Http.PutAsync(Url("/v1/adapters/http-rank"), HttpGrid.AdapterUpload(adapter));

        var error = await ErrorBody.ReadAsync(put, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_adapter", error.GetProperty("code").GetString());
        Assert.Contains("rank", error.GetProperty("message").GetString());
        using var gone = await grid.Http.GetAsync(Url("/v1/adapters/http-rank"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Uploads_that_are_not_peft_adapters_are_refused()
    {
        var config = HttpGrid.Engine(grid.A).Config;
        var files = new Dictionary<string, byte[]>();
        var folder = Directory.CreateTempSubdirectory("slora-bad-");
        LoraAdapter.Synthetic(config, "x", 4, ["q_proj"], seed: 1).Save(folder.FullName);
        foreach (var f in Directory.EnumerateFiles(folder.FullName))
            files[Path.GetFileName(f)] = File.ReadAllBytes(f);
        folder.Delete(recursive: true);

        using var missing = await grid.Http.PutAsync(Url("/v1/adapters/http-bad"),
            HttpGrid.AdapterUpload(new Dictionary<string, byte[]> { ["adapter_config.json"] = files["adapter_config.json"] }));
        Assert.Contains("adapter_model.safetensors", (await ErrorBody.ReadAsync(missing, HttpStatusCode.BadRequest)).GetProperty("message").GetString());

        var garbled = new Dictionary<string, byte[]>(files) { ["adapter_model.safetensors"] = "not a safetensors file"u8.ToArray() };
        using var bad = await grid.Http.PutAsync(Url("/v1/adapters/http-bad"), HttpGrid.AdapterUpload(garbled));
        Assert.Equal("invalid_adapter", (await ErrorBody.ReadAsync(bad, HttpStatusCode.BadRequest)).GetProperty("code").GetString());

        using var json = await grid.Http.PutAsync(Url("/v1/adapters/http-bad"), JsonContent.Create(new { blob = "container/path" }));
        Assert.Equal("blob", (await ErrorBody.ReadAsync(json, HttpStatusCode.BadRequest)).GetProperty("param").GetString());

        using var badId = await grid.Http.PutAsync(Url("/v1/adapters/.hidden"), HttpGrid.AdapterUpload(files));
        Assert.Equal("invalid_adapter_id", (await ErrorBody.ReadAsync(badId, HttpStatusCode.BadRequest)).GetProperty("code").GetString());

        using var baseName = await grid.Http.PutAsync(Url($"/v1/adapters/{HttpGrid.BaseModel}"), HttpGrid.AdapterUpload(files));
        await ErrorBody.ReadAsync(baseName, HttpStatusCode.BadRequest);
    }
}
