namespace SLoRA.Engine.Generation;

/// <summary>
/// One streamed piece of a generation: a new token and the text it completed (possibly empty,
/// when the token ends inside a UTF-8 character or might begin a stop string). The last chunk
/// of a request carries its <see cref="FinishReason"/>.
/// </summary>
/// <param name="Text">Text completed by this token.</param>
/// <param name="TokenId">The token, or -1 for a final chunk that carries no token.</param>
/// <param name="Logprob">Log-probability of the token, when asked for.</param>
/// <param name="FinishReason">Set on the last chunk.</param>
public sealed record TokenChunk(string Text, int TokenId, float? Logprob = null, FinishReason? FinishReason = null);
