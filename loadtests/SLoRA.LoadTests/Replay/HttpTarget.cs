using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Model;
using SLoRA.LoadTests.Workload;

namespace SLoRA.LoadTests.Replay;

/// <summary>
/// Replays against running SLoRA.Grid silos over HTTP, from another process: each request is an
/// S-LoRA <c>POST /generate_stream</c> (prompt as token ids, greedy, EOS ignored, exactly the
/// output length, <c>lora_dir</c> = the adapter), sent to the silos round-robin. Page and queue
/// figures come from each silo's <c>/metrics</c>, polled in the background and summed.
/// </summary>
public sealed class HttpTarget : ITraceTarget, IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly IReadOnlyList<Uri> _silos;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _poller;
    private MemorySnapshot?[] _snapshots;

    private HttpTarget(HttpClient http, IReadOnlyList<Uri> silos, string baseModel, LlamaConfig config)
    {
        _http = http;
        _silos = silos;
        BaseModel = baseModel;
        Config = config;
        _snapshots = new MemorySnapshot?[silos.Count];
        _poller = Task.Run(PollAsync);
    }

    /// <summary>The base model's name, as the silos report it.</summary>
    public string BaseModel { get; }

    /// <summary>The base model's shape, from GET /v1/models.</summary>
    public LlamaConfig Config { get; }

    /// <inheritdoc/>
    public string Description => $"HTTP /generate_stream on {string.Join(", ", _silos)}: {BaseModel}";

    /// <summary>
    /// Connects to <paramref name="silos"/> (their facade URLs): reads the base model from the
    /// first one's GET /v1/models, which must be served by a silo that runs an engine.
    /// </summary>
    public static async Task<HttpTarget> ConnectAsync(IReadOnlyList<Uri> silos, CancellationToken cancellationToken = default)
    {
        if (silos.Count == 0)
            throw new ArgumentException("at least one target URL is needed.", nameof(silos));
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        try
        {
            var models = await http.GetFromJsonAsync<JsonElement>(new Uri(silos[0], "/v1/models"), cancellationToken).ConfigureAwait(false);
            var card = models.GetProperty("data")[0];
            if (!card.TryGetProperty("config", out var c))
                throw new InvalidOperationException($"{silos[0]} does not report the base model's shape (is it a gateway without an engine?); target a GPU silo first.");
            var config = new LlamaConfig
            {
                HiddenSize = c.GetProperty("hidden_size").GetInt32(),
                IntermediateSize = c.GetProperty("intermediate_size").GetInt32(),
                NumLayers = c.GetProperty("num_hidden_layers").GetInt32(),
                NumHeads = c.GetProperty("num_attention_heads").GetInt32(),
                NumKvHeads = c.GetProperty("num_key_value_heads").GetInt32(),
                HeadDim = c.GetProperty("head_dim").GetInt32(),
                VocabSize = c.GetProperty("vocab_size").GetInt32(),
                MaxPositionEmbeddings = c.GetProperty("max_position_embeddings").GetInt32(),
            };
            return new HttpTarget(http, silos, card.GetProperty("id").GetString()!, config);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <summary>The request body of a trace request: token-id prompt, greedy, EOS ignored, exactly the output length.</summary>
    public static object ToRequestBody(TraceRequest request) => new Dictionary<string, object?>
    {
        ["inputs"] = request.PromptTokens(),
        ["lora_dir"] = request.AdapterId,
        ["parameters"] = new Dictionary<string, object> { ["do_sample"] = false, ["max_new_tokens"] = request.OutputLength, ["ignore_eos"] = true },
    };

    /// <inheritdoc/>
    public async IAsyncEnumerable<StreamedToken> SendAsync(TraceRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var url = new Uri(_silos[request.Index % _silos.Count], "/generate_stream");
        using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(ToRequestBody(request)) };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new TargetRequestException(FailureKind.Error, $"{url}: {e.Message}", e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw await RefusalAsync(response).ConfigureAwait(false);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
            while (await ReadEventAsync(reader, cancellationToken).ConfigureAwait(false) is { } data)
            {
                using var json = JsonDocument.Parse(data);
                var root = json.RootElement;
                if (root.TryGetProperty("error", out var error))
                    throw new TargetRequestException(FailureKind.Aborted, error.GetProperty("message").GetString() ?? "the server ended the stream with an error.");
                int id = root.GetProperty("token").GetProperty("id").GetInt32();
                string? finish = root.GetProperty("details") is { ValueKind: JsonValueKind.Object } details
                    ? FinishReasonName(details.GetProperty("finish_reason").GetString()) : null;
                yield return new StreamedToken(id, finish);
            }
        }
    }

    private static async Task<string?> ReadEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        try
        {
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (line.StartsWith("data:", StringComparison.Ordinal))
                    return line["data:".Length..].TrimStart();
            }
            return null;
        }
        catch (IOException e)
        {
            throw new TargetRequestException(FailureKind.Aborted, $"the stream broke: {e.Message}", e);
        }
    }

    /// <summary>The engine's names for finish reasons, as <see cref="EngineTarget"/> reports them.</summary>
    private static string? FinishReasonName(string? reason) => reason switch
    {
        "length" => "Length",
        "stop" => "Stop",
        _ => reason,
    };

    private static async Task<TargetRequestException> RefusalAsync(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        string message = $"{(int)response.StatusCode}: {body}";
        try
        {
            message = $"{(int)response.StatusCode}: {JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString()}";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Not an OpenAI-style error body: keep it as it came.
        }
        var kind = response.StatusCode switch
        {
            HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable => FailureKind.Overloaded,
            HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.UnprocessableEntity or HttpStatusCode.RequestEntityTooLarge => FailureKind.Rejected,
            _ => FailureKind.Error,
        };
        return new TargetRequestException(kind, message);
    }

    /// <inheritdoc/>
    public MemorySnapshot? Snapshot()
    {
        var all = Volatile.Read(ref _snapshots);
        if (all.All(s => s is null))
            return null;
        var known = all.OfType<MemorySnapshot>().ToList();
        return new MemorySnapshot(known.Sum(s => s.PagesTotal), known.Sum(s => s.PagesFree), known.Sum(s => s.PagesKv),
            known.Sum(s => s.PagesAdapter), known.Sum(s => s.Running), known.Sum(s => s.Waiting));
    }

    /// <summary>The smallest page pool among the silos polled so far (0 when none answered).</summary>
    public int SmallestPool() => Volatile.Read(ref _snapshots).OfType<MemorySnapshot>().Select(s => s.PagesTotal).DefaultIfEmpty(0).Min();

    private async Task PollAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        do
        {
            var next = new MemorySnapshot?[_silos.Count];
            await Task.WhenAll(_silos.Select(async (silo, i) => next[i] = await ScrapeAsync(silo).ConfigureAwait(false))).ConfigureAwait(false);
            Volatile.Write(ref _snapshots, next);
        }
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
    }

    /// <summary>One silo's engine figures from its Prometheus text (slora_engine_pages, _running, _queue_depth); null when it has none.</summary>
    private async Task<MemorySnapshot?> ScrapeAsync(Uri silo)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            cts.CancelAfter(TimeSpan.FromSeconds(2));
            var text = await _http.GetStringAsync(new Uri(silo, "/metrics"), cts.Token).ConfigureAwait(false);
            return ParseMetrics(text);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Reads the engine's gauges out of a Prometheus exposition; null when they are absent.</summary>
    public static MemorySnapshot? ParseMetrics(string text)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("slora_engine_", StringComparison.Ordinal))
                continue;
            int space = line.LastIndexOf(' ');
            string series = line[..space];
            string key = series.Contains("kind=\"", StringComparison.Ordinal)
                ? "pages:" + series[(series.IndexOf("kind=\"", StringComparison.Ordinal) + 6)..].Split('"')[0]
                : series.Split('{')[0];
            if (double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                values[key] = value;
        }
        if (!values.TryGetValue("pages:total", out double total))
            return null;
        int Get(string key) => (int)values.GetValueOrDefault(key);
        return new MemorySnapshot((int)total, Get("pages:free"), Get("pages:kv_cache"), Get("pages:adapter"), Get("slora_engine_running"), Get("slora_engine_queue_depth"));
    }

    /// <summary>Runs one short base-model request on every silo, then waits for their page counts.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        var prompt = Enumerable.Range(0, 8).Select(i => (WorkloadGenerator.DefaultMinTokenId + i) % Config.VocabSize).ToArray();
        foreach (var silo in _silos)
        {
            using var response = await _http.PostAsJsonAsync(new Uri(silo, "/generate"),
                new { inputs = prompt, parameters = new { max_new_tokens = 2, ignore_eos = true } }, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw await RefusalAsync(response).ConfigureAwait(false);
        }
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Snapshot() is null && DateTime.UtcNow < deadline)
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Uploads the workload's adapters that the grid does not have yet (PUT /v1/adapters/{id}):
    /// synthetic weights of each adapter's rank on q, k, v and o, as <see cref="EngineTarget"/> registers them.
    /// </summary>
    public async Task RegisterAdaptersAsync(WorkloadSpec spec, Action<string> progress, CancellationToken cancellationToken = default)
    {
        var adapters = WorkloadGenerator.Adapters(spec);
        string[] targets = ["q_proj", "k_proj", "v_proj", "o_proj"];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int uploaded = 0;
        for (int i = 0; i < adapters.Count; i++)
        {
            var a = adapters[i];
            using (var existing = await _http.GetAsync(new Uri(_silos[0], $"/v1/adapters/{a.Id}"), cancellationToken).ConfigureAwait(false))
            {
                if (existing.StatusCode != HttpStatusCode.NotFound)
                    continue;
            }
            using var form = Upload(LoraAdapter.Synthetic(Config, a.Id, a.Rank, targets, seed: a.Index));
            using var response = await _http.PutAsync(new Uri(_silos[0], $"/v1/adapters/{a.Id}"), form, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"uploading {a.Id} failed: {(await RefusalAsync(response).ConfigureAwait(false)).Message}");
            if (++uploaded % 100 == 0)
                progress($"[adapters] uploaded {uploaded} ({clock.Elapsed.TotalSeconds:F0} s)");
        }
        progress($"[adapters] {adapters.Count} adapters in the grid, {uploaded} uploaded now ({clock.Elapsed.TotalSeconds:F0} s)");
    }

    private static MultipartFormDataContent Upload(LoraAdapter adapter)
    {
        var folder = Directory.CreateTempSubdirectory("slora-loadtest-adapter-");
        try
        {
            adapter.Save(folder.FullName);
            var form = new MultipartFormDataContent();
            foreach (var path in Directory.EnumerateFiles(folder.FullName))
            {
                string name = Path.GetFileName(path);
                form.Add(new ByteArrayContent(File.ReadAllBytes(path)), name, name);
            }
            return form;
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _poller.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
        _http.Dispose();
    }
}
