namespace SLoRA.Grid.Generation;

/// <summary>
/// One streamed piece of a generation: a token and the text it completed (possibly empty). The
/// last chunk carries <see cref="FinishReason"/>.
/// </summary>
/// <param name="Text">Text completed by this token.</param>
/// <param name="TokenId">The token, or -1 for a final chunk that carries no token.</param>
/// <param name="Logprob">Log-probability of the token, when asked for.</param>
/// <param name="FinishReason">Set on the last chunk.</param>
/// <param name="PromptTokens">Tokens in the prompt as the silo tokenized it; set on the first chunk (usage counts).</param>
[GenerateSerializer, Immutable, Alias("slora.TokenChunk")]
public sealed record TokenChunk(
    [property: Id(0)] string Text,
    [property: Id(1)] int TokenId,
    [property: Id(2)] float? Logprob = null,
    [property: Id(3)] FinishReason? FinishReason = null,
    [property: Id(4)] int? PromptTokens = null);
