namespace SLoRA.Grid.Http.Tgi;

// TGI's response shapes, as S-LoRA's server writes them (snake_case, nulls kept).

/// <summary>POST /generate: the whole text; <see cref="Details"/> only when asked for.</summary>
public sealed record GenerateResponse(string GeneratedText)
{
    /// <summary>Finish reason and counts, when the request set parameters.details.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public GenerateDetails? Details { get; init; }
}

/// <summary>How a generation ended.</summary>
public sealed record GenerateDetails(string? FinishReason, int GeneratedTokens, int PromptTokens, ulong? Seed);

/// <summary>One event of /generate_stream: a token; the last one also carries the whole text and the details.</summary>
public sealed record StreamEvent(StreamToken Token, string? GeneratedText, GenerateDetails? Details);

/// <summary>A generated token.</summary>
public sealed record StreamToken(int Id, string Text, float? Logprob, bool Special);
