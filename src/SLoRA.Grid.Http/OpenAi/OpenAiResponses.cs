using System.Text.Json.Serialization;

namespace SLoRA.Grid.Http.OpenAi;

// The response shapes of OpenAI's /v1/completions, /v1/chat/completions and /v1/models, written
// with snake_case names (ApiJson). Fields OpenAI writes as null are kept as null.

/// <summary>Token counts of one request.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens)
{
    /// <summary>The usage of a prompt and a completion.</summary>
    public static Usage Of(int prompt, int completion) => new(prompt, completion, prompt + completion);
}

/// <summary>A text completion, or one chunk of a streamed one (same object, "text_completion").</summary>
public sealed record CompletionResponse(string Id, string Object, long Created, string Model, IReadOnlyList<CompletionChoice> Choices, Usage? Usage)
{
    /// <summary>Always null: there is one build of this server.</summary>
    public string? SystemFingerprint { get; init; }
}

/// <summary>One choice of a completion.</summary>
public sealed record CompletionChoice(string Text, int Index, object? Logprobs, string? FinishReason);

/// <summary>A chat completion.</summary>
public sealed record ChatCompletionResponse(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage Usage)
{
    /// <summary>Always null.</summary>
    public string? SystemFingerprint { get; init; }
}

/// <summary>One choice of a chat completion.</summary>
public sealed record ChatChoice(int Index, ChatMessageOut Message, object? Logprobs, string? FinishReason);

/// <summary>The assistant's message.</summary>
public sealed record ChatMessageOut(string Role, string Content)
{
    /// <summary>Always null: this server never refuses.</summary>
    public string? Refusal { get; init; }
}

/// <summary>One chunk of a streamed chat completion ("chat.completion.chunk").</summary>
public sealed record ChatCompletionChunk(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChunkChoice> Choices, Usage? Usage)
{
    /// <summary>Always null.</summary>
    public string? SystemFingerprint { get; init; }
}

/// <summary>One choice of a chat chunk.</summary>
public sealed record ChatChunkChoice(int Index, ChatDelta Delta, object? Logprobs, string? FinishReason);

/// <summary>What a chat chunk adds; absent fields are left out (the last chunk's delta is {}).</summary>
public sealed record ChatDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);

/// <summary>GET /v1/models.</summary>
public sealed record ModelList(string Object, IReadOnlyList<ModelCard> Data);

/// <summary>
/// A model: the base model (root and parent null) or an adapter (parent: the base model), as vLLM
/// lists LoRA adapters. The base model also carries its context length and, when this silo runs
/// the engine, its shape (<see cref="Config"/>), which the load tester uses to make adapters.
/// </summary>
public sealed record ModelCard(string Id, string Object, long Created, string OwnedBy, string? Root, string? Parent)
{
    /// <summary>Tokens of context (prompt + completion), when known here.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? MaxModelLen { get; init; }

    /// <summary>The base model's Llama shape, when known here.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ModelShape? Config { get; init; }
}

/// <summary>The base model's Llama configuration, in Hugging Face's config.json names.</summary>
public sealed record ModelShape(int HiddenSize, int IntermediateSize, int NumHiddenLayers, int NumAttentionHeads, int NumKeyValueHeads,
    int HeadDim, int VocabSize, int MaxPositionEmbeddings);
