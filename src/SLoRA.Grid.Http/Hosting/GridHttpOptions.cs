namespace SLoRA.Grid.Http.Hosting;

/// <summary>The HTTP facade's settings, bound from the configuration section "SLoRA:Http".</summary>
public sealed class GridHttpOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "SLoRA:Http";

    /// <summary>
    /// Keys accepted as "Authorization: Bearer KEY" (or "X-Api-Key: KEY") on /v1/* and /generate*.
    /// Empty (the default) lets every caller in; /health, /ready and /metrics never need a key.
    /// </summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>
    /// The base model's name in "model" fields and /v1/models; empty takes the silo engine's
    /// model name (the model folder's name, or "synthetic-llama"). Requests naming it run without an adapter.
    /// </summary>
    public string? ModelName { get; set; }

    /// <summary>Largest adapter upload accepted by PUT /v1/adapters/{id}, in bytes.</summary>
    public long MaxUploadBytes { get; set; } = 64L << 20;

    /// <summary>Retry-After for 429/503 answers whose cause gives no hint of its own.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        if (ApiKeys.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("API keys must not be empty.", nameof(ApiKeys));
        if (MaxUploadBytes < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxUploadBytes), MaxUploadBytes, "must be positive");
        if (RetryAfter < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(RetryAfter), RetryAfter, "must not be negative");
    }
}
