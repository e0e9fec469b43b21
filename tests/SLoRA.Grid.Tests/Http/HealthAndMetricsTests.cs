using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace SLoRA.Grid.Tests.Http;

/// <summary>/health, /ready, /metrics and API keys.</summary>
[Collection(HttpCollection.Name)]
public sealed class HealthAndMetricsTests(HttpGrid grid)
{
    [Fact]
    public async Task Health_and_ready_answer_200_once_the_cluster_has_gpu_silos()
    {
        var health = await grid.Http.GetFromJsonAsync<JsonElement>(new Uri(grid.BaseUrl, "/health"));
        var ready = await grid.Http.GetFromJsonAsync<JsonElement>(new Uri(grid.BaseUrl, "/ready"));

        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Equal(2, ready.GetProperty("gpu_silos").GetInt32());
    }

    [Fact]
    public void The_silos_engine_settings_come_from_configuration()
    {
        Assert.All(grid.EngineOptions, o =>
        {
            Assert.Equal(2048, o.Engine.Runner.NumPages);
            Assert.Equal(HttpGrid.MaxLoraRank, o.Engine.Runner.MaxLoraRank);
            Assert.Equal(HttpGrid.PinnedAdapterBytes, o.Engine.Runner.PinnedAdapterBytes);
            Assert.Equal(HttpGrid.MaxWaitingRequests, o.Engine.MaxWaitingRequests);
        });
    }

    [Fact]
    public async Task Metrics_are_exported_in_prometheus_format_with_the_grids_and_orleans_names()
    {
        await grid.PostForJsonAsync("/v1/completions", new { model = HttpGrid.AdapterA, prompt = "Count me", max_tokens = 3 });

        var text = await grid.Http.GetStringAsync(new Uri(grid.BaseUrl, "/metrics"));

        string[] expected =
        [
            "slora_requests_total{", "endpoint=\"completions\"", $"model=\"{HttpGrid.AdapterA}\"", "status=\"200\"",
            "slora_tokens_total{", "kind=\"prompt\"", "kind=\"completion\"",
            "slora_request_duration_seconds_bucket{", "slora_time_to_first_token_seconds_bucket{",
            "slora_engine_pages{", "kind=\"kv_cache\"", "kind=\"adapter\"", "kind=\"free\"",
            "slora_engine_batch_size", "slora_engine_queue_depth", "slora_engine_running",
            "slora_adapters_resident{", "tier=\"gpu\"", "tier=\"host\"", "tier=\"warm\"",
            "orleans_", "http_server_request_duration_seconds",
        ];
        Assert.All(expected, name => Assert.Contains(name, text));
    }

    [Fact]
    public async Task A_facade_with_api_keys_refuses_requests_without_one()
    {
        var url = HttpGrid.Url(grid.B);
        using var client = new HttpClient();
        var body = JsonContent.Create(new { model = HttpGrid.BaseModel, prompt = "Hi", max_tokens = 2 });

        using var refused = await client.PostAsync(new Uri(url, "/v1/completions"), body);
        var error = await ErrorBody.ReadAsync(refused, HttpStatusCode.Unauthorized);
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        using var wrong = await client.PostAsync(new Uri(url, "/v1/completions"), body);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HttpGrid.ApiKey);
        using var allowed = await client.PostAsync(new Uri(url, "/v1/completions"), body);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);

        client.DefaultRequestHeaders.Authorization = null;
        using var health = await client.GetAsync(new Uri(url, "/health"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
