using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenAI;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Serving;
using SLoRA.Grid.Hosting;
using SLoRA.Grid.Http.Hosting;
using SLoRA.Grid.Silo.Hosting;
using SLoRA.Grid.Tests.Fixtures;

namespace SLoRA.Grid.Tests.Http;

/// <summary>
/// Two silos in this process, each a WebApplication exactly as SLoRA.Grid.Silo composes it —
/// AddSLoRAGrid() from settings, AddSLoRAGridHttp(), MapSLoRAGridApi() — on Kestrel at
/// 127.0.0.1 and a free port, clustered through localhost clustering. The engine is the silo's
/// own demo model (GPT-2 vocabulary, so text prompts work; 512 positions) on the CPU accelerator,
/// with small queues so that overload is quick to reach. Silo B's facade needs an API key.
/// Two adapters made by the engine's synthetic generator are uploaded over HTTP.
/// </summary>
public sealed class HttpGrid : IAsyncLifetime
{
    public const string BaseModel = "demo-base";
    public const string AdapterA = "http-a";
    public const string AdapterB = "http-b";
    public const string ApiKey = "test-key";
    public const int MaxWaitingRequests = 6;
    public const int MaxLoraRank = 32;
    public const long PinnedAdapterBytes = 48L << 20;

    private readonly DirectoryInfo _store = Directory.CreateTempSubdirectory("slora-http-store-");
    private readonly string _clusterId = $"http-{Guid.NewGuid():N}"[..16];
    private readonly List<WebApplication> _silos = [];

    /// <summary>Silo A: the primary, its facade open.</summary>
    public WebApplication A => _silos[0];

    /// <summary>Silo B: its facade needs <see cref="ApiKey"/>.</summary>
    public WebApplication B => _silos[1];

    public Uri BaseUrl => Url(A);

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static Uri Url(WebApplication silo) => new(silo.Urls.First(u => u.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));

    public async Task InitializeAsync()
    {
        int primary = FreePort();
        _silos.Add(await StartSiloAsync(primary, primary, apiKeys: []));
        _silos.Add(await StartSiloAsync(FreePort(), primary, apiKeys: [ApiKey]));
        await GridCluster.WaitUntilAsync(() => ReadyGpuSilos() == 2, TimeSpan.FromSeconds(30), "both GPU silos ready");
        var config = Engine(A).Config;
        foreach (var (id, rank, seed) in new[] { (AdapterA, 8, 1), (AdapterB, 16, 2) })
        {
            using var upload = AdapterUpload(LoraAdapter.Synthetic(config, id, rank, ["q_proj", "k_proj", "v_proj", "o_proj"], seed));
            var response = await Http.PutAsync(new Uri(BaseUrl, $"/v1/adapters/{id}"), upload);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
    }

    private async Task<WebApplication> StartSiloAsync(int siloPort, int primaryPort, string[] apiKeys)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = ["--urls", "http://127.0.0.1:0"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        var settings = new Dictionary<string, string?>
        {
            ["SLoRA:Grid:Clustering"] = "Localhost",
            ["SLoRA:Grid:ClusterId"] = _clusterId,
            ["SLoRA:Grid:SiloPort"] = $"{siloPort}",
            ["SLoRA:Grid:GatewayPort"] = $"{FreePort()}",
            ["SLoRA:Grid:PrimarySiloPort"] = $"{primaryPort}",
            ["SLoRA:Grid:AdapterRoot"] = _store.FullName,
            ["SLoRA:Grid:SampleAdapters"] = "0",
            ["SLoRA:Grid:Engine:Accelerator"] = "Cpu",
            ["SLoRA:Grid:Engine:NumPages"] = "2048",
            ["SLoRA:Grid:Engine:MaxBatchTokens"] = "128",
            ["SLoRA:Grid:Engine:MaxBatchSequences"] = "4",
            ["SLoRA:Grid:Engine:MaxLoraRank"] = $"{MaxLoraRank}",
            ["SLoRA:Grid:Engine:MaxWaitingRequests"] = $"{MaxWaitingRequests}",
            ["SLoRA:Grid:Engine:PinnedAdapterBytes"] = $"{PinnedAdapterBytes}",
            ["SLoRA:Http:ModelName"] = BaseModel,
        };
        for (int i = 0; i < apiKeys.Length; i++)
            settings[$"SLoRA:Http:ApiKeys:{i}"] = apiKeys[i];
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddSLoRAGrid(silo => silo.ConfigureGridPlacement(o =>
        {
            o.HeartbeatPeriod = TimeSpan.FromMilliseconds(200);
            o.EnableMigration = false;
        }));
        builder.AddSLoRAGridHttp();
        var app = builder.Build();
        app.MapSLoRAGridApi();
        await app.StartAsync();
        return app;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        foreach (var silo in Enumerable.Reverse(_silos))
        {
            await silo.StopAsync();
            await silo.DisposeAsync();
        }
        _store.Delete(recursive: true);
    }

    /// <summary>The engine of a silo.</summary>
    public static LlmEngine Engine(WebApplication silo) =>
        silo.Services.GetRequiredService<GpuEngineHost>().Engine ?? throw new InvalidOperationException("no engine");

    public IEnumerable<LlmEngine> Engines => _silos.Select(Engine);

    /// <summary>The engine settings each silo ended up with (configuration bound and applied).</summary>
    public IEnumerable<GpuEngineOptions> EngineOptions => _silos.Select(s => s.Services.GetRequiredService<GpuEngineHost>().Options);

    /// <summary>Waits until no engine runs or queues a request and no KV page is in use.</summary>
    public Task WaitForIdleEnginesAsync() =>
        GridCluster.WaitUntilAsync(() => Engines.All(e => e.GetStats() is { PagesKv: 0, Running: 0, Waiting: 0 }),
            TimeSpan.FromSeconds(20), "engines to free every KV page", () => string.Join("; ", Engines.Select(e => e.GetStats().ToString())));

    /// <summary>An OpenAI client pointed at silo A's facade with a dummy key, retries off.</summary>
    public OpenAIClient OpenAi() => new(new System.ClientModel.ApiKeyCredential("dummy"), new OpenAIClientOptions
    {
        Endpoint = new Uri(BaseUrl, "/v1"),
        RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    });

    /// <summary>A multipart upload of <paramref name="adapter"/>'s PEFT files, named by their form fields.</summary>
    public static MultipartFormDataContent AdapterUpload(LoraAdapter adapter)
    {
        var folder = Directory.CreateTempSubdirectory("slora-upload-");
        try
        {
            adapter.Save(folder.FullName);
            return AdapterUpload(Directory.EnumerateFiles(folder.FullName).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    public static MultipartFormDataContent AdapterUpload(IReadOnlyDictionary<string, byte[]> files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
            form.Add(new ByteArrayContent(bytes), name, name);
        return form;
    }

    public Task<HttpResponseMessage> PostJsonAsync(string path, string json, CancellationToken ct = default) =>
        Http.PostAsync(new Uri(BaseUrl, path), new StringContent(json, System.Text.Encoding.UTF8, "application/json"), ct);

    public async Task<JsonElement> PostForJsonAsync(string path, object body)
    {
        var response = await Http.PostAsJsonAsync(new Uri(BaseUrl, path), body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private int ReadyGpuSilos()
    {
        try
        {
            using var response = Http.GetAsync(new Uri(BaseUrl, "/ready")).Result;
            if (!response.IsSuccessStatusCode)
                return 0;
            return JsonDocument.Parse(response.Content.ReadAsStringAsync().Result).RootElement.GetProperty("gpu_silos").GetInt32();
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class HttpCollection : ICollectionFixture<HttpGrid>
{
    public const string Name = "http facade";
}
