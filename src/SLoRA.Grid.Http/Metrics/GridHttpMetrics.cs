using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SLoRA.Grid.Http.Metrics;

/// <summary>
/// What the facade measures per request, labelled by model (the adapter id, or the base model's
/// name) and endpoint: requests by status, prompt and completion tokens, latency to the last and
/// to the first token. Exported on /metrics as slora_requests_total, slora_tokens_total,
/// slora_request_duration_seconds and slora_time_to_first_token_seconds.
/// </summary>
public sealed class GridHttpMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "SLoRA.Grid.Http";

    private static readonly IReadOnlyList<double> LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly Counter<long> _requests;
    private readonly Counter<long> _tokens;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _firstToken;
    private readonly UpDownCounter<long> _inFlight;

    /// <summary>Creates the instruments on <paramref name="meters"/>.</summary>
    public GridHttpMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("slora.requests", "{request}", "Generation requests answered, by model, endpoint and HTTP status.");
        _tokens = meter.CreateCounter<long>("slora.tokens", "{token}", "Tokens by model and kind (prompt or completion).");
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets };
        _duration = meter.CreateHistogram("slora.request.duration", "s", "Time from a request's arrival to its last token, by model and endpoint.", advice: advice);
        _firstToken = meter.CreateHistogram("slora.time_to_first_token", "s", "Time from a request's arrival to its first token, by model.", advice: advice);
        _inFlight = meter.CreateUpDownCounter<long>("slora.requests.in_flight", "{request}", "Generation requests being served by this facade.");
    }

    /// <summary>A generation request started.</summary>
    public void Started() => _inFlight.Add(1);

    /// <summary>A generation request ended with <paramref name="status"/>.</summary>
    public void Finished(string model, string endpoint, int status, TimeSpan elapsed, int promptTokens, int completionTokens)
    {
        _inFlight.Add(-1);
        var labels = new TagList { { "model", model }, { "endpoint", endpoint } };
        _requests.Add(1, [.. labels, new("status", status)]);
        _duration.Record(elapsed.TotalSeconds, labels);
        if (promptTokens > 0)
            _tokens.Add(promptTokens, new("model", model), new("kind", "prompt"));
        if (completionTokens > 0)
            _tokens.Add(completionTokens, new("model", model), new("kind", "completion"));
    }

    /// <summary>The first token of a request on <paramref name="model"/> arrived after <paramref name="elapsed"/>.</summary>
    public void FirstToken(string model, TimeSpan elapsed) => _firstToken.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("model", model));
}
