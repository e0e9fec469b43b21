using System.Text.Json;
using SLoRA.Grid.Generation;
using SLoRA.Grid.Http.Errors;
using SLoRA.Grid.Http.Generation;
using SLoRA.Grid.Http.Json;

namespace SLoRA.Grid.Http.OpenAi;

/// <summary>
/// A parsed /v1/completions or /v1/chat/completions request. Supported: model, prompt (text,
/// one-element list of text, token ids) or messages, max_tokens (chat also
/// max_completion_tokens), temperature [0, 2], top_p (0, 1], seed, stop (a string or up to 4),
/// n = 1, stream, stream_options.include_usage. Asking for what is not supported (n &gt; 1, echo,
/// logprobs, penalties other than 0, best_of &gt; 1) is a 400; other fields are ignored.
/// </summary>
/// <param name="Target">The base model or an adapter.</param>
/// <param name="Request">What the grid runs.</param>
/// <param name="Stream">Whether to answer with server-sent events.</param>
/// <param name="IncludeUsage">Streams only: a last chunk with the usage (stream_options.include_usage).</param>
public sealed record OpenAiRequest(ModelTarget Target, GenerateRequest Request, bool Stream, bool IncludeUsage)
{
    /// <summary>max_tokens when a completion request gives none (OpenAI's default).</summary>
    public const int DefaultCompletionTokens = 16;

    /// <summary>max_tokens when a chat request gives none.</summary>
    public const int DefaultChatTokens = 128;

    /// <summary>Most stop strings (OpenAI's limit).</summary>
    public const int MaxStops = 4;

    /// <summary>The grid's field names as OpenAI calls them, for error messages.</summary>
    public static IReadOnlyDictionary<string, string> CompletionParams { get; } = new Dictionary<string, string> { ["max_new_tokens"] = "max_tokens" };

    /// <summary>As <see cref="CompletionParams"/>, for chat (the prompt comes from "messages").</summary>
    public static IReadOnlyDictionary<string, string> ChatParams { get; } = new Dictionary<string, string> { ["max_new_tokens"] = "max_tokens", ["prompt"] = "messages" };

    /// <summary>Parses a /v1/completions body.</summary>
    public static OpenAiRequest ParseCompletion(JsonElement body, ModelResolver models)
    {
        var f = new JsonFields(body);
        var target = models.Resolve(f.String("model", required: true));
        if (f.Bool("echo") == true)
            throw Unsupported("echo", "echo is not supported.");
        if (f.Get("logprobs") is { } logprobs && !(logprobs.ValueKind == JsonValueKind.Number && logprobs.TryGetInt32(out int n) && n == 0) && logprobs.ValueKind != JsonValueKind.False)
            throw Unsupported("logprobs", "logprobs are not supported.");
        if (f.Int("best_of", 1, 128) is > 1)
            throw Unsupported("best_of", "best_of above 1 is not supported.");
        if (f.String("suffix") is { Length: > 0 })
            throw Unsupported("suffix", "suffix is not supported.");
        var request = Prompt(f) with { Sampling = Sampling(f, DefaultCompletionTokens, []) };
        return Finish(f, target, request);
    }

    /// <summary>Parses a /v1/chat/completions body; the messages become a prompt through <see cref="ChatTemplate"/>.</summary>
    public static OpenAiRequest ParseChat(JsonElement body, ModelResolver models)
    {
        var f = new JsonFields(body);
        var target = models.Resolve(f.String("model", required: true));
        if (f.Bool("logprobs") == true)
            throw Unsupported("logprobs", "logprobs are not supported.");
        if (f.Get("tools") is { ValueKind: JsonValueKind.Array } tools && tools.GetArrayLength() > 0)
            throw Unsupported("tools", "tools are not supported.");
        var prompt = ChatTemplate.Apply(Messages(f));
        var request = GenerateRequest.ForText(prompt, Sampling(f, DefaultChatTokens, [ChatTemplate.TurnStop], "max_completion_tokens"));
        return Finish(f, target, request);
    }

    private static OpenAiRequest Finish(JsonFields f, ModelTarget target, GenerateRequest request)
    {
        bool stream = f.Bool("stream") ?? false;
        bool includeUsage = f.Object("stream_options")?.Bool("include_usage") ?? false;
        return new OpenAiRequest(target, request, stream, includeUsage);
    }

    private static SamplingOptions Sampling(JsonFields f, int defaultMaxTokens, IReadOnlyList<string> implicitStops, string? maxTokensAlias = null)
    {
        int? n = f.Int("n", 1, 128);
        if (n is > 1)
            throw Unsupported("n", $"only n = 1 is supported, got {n}.");
        foreach (var penalty in (string[])["presence_penalty", "frequency_penalty"])
        {
            if (f.Number(penalty, -2, 2) is { } p && p != 0)
                throw Unsupported(penalty, $"{penalty} is not supported (only 0).");
        }
        int? maxTokens = f.Int("max_tokens", 1, int.MaxValue);
        if (maxTokensAlias is not null)
            maxTokens ??= f.Int(maxTokensAlias, 1, int.MaxValue);
        long? seed = f.Integer("seed");
        return new SamplingOptions
        {
            MaxNewTokens = maxTokens ?? defaultMaxTokens,
            Temperature = (float)(f.Number("temperature", 0, 2) ?? 1),
            TopP = (float)(f.Number("top_p", 0, 1, exclusiveMin: true) ?? 1),
            Seed = seed is { } s ? unchecked((ulong)s) : null,
            StopStrings = [.. f.StringOrStrings("stop", MaxStops) ?? [], .. implicitStops],
        };
    }

    /// <summary>A prompt as text, a one-element list of text, token ids, or a one-element list of token ids.</summary>
    private static GenerateRequest Prompt(JsonFields f)
    {
        var value = f.Get("prompt") ?? throw f.Missing("prompt");
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return GenerateRequest.ForText(value.GetString()!);
            case JsonValueKind.Array:
                int count = value.GetArrayLength();
                if (count == 0)
                    throw ApiException.BadRequest("'prompt' must not be empty.", "prompt");
                var first = value[0];
                if (first.ValueKind == JsonValueKind.Number)
                    return GenerateRequest.ForTokens(TokenIds(value, "prompt"));
                if (count > 1)
                    throw Unsupported("prompt", $"'prompt' lists {count} prompts; one request serves one prompt (n = 1).");
                if (first.ValueKind == JsonValueKind.String)
                    return GenerateRequest.ForText(first.GetString()!);
                if (first.ValueKind == JsonValueKind.Array && first.GetArrayLength() > 0)
                    return GenerateRequest.ForTokens(TokenIds(first, "prompt"));
                break;
        }
        throw f.WrongType("prompt", "a string, a list of token ids, or a list of one of them", value);
    }

    /// <summary>Token ids: non-negative integers (the silo checks them against the vocabulary).</summary>
    public static int[] TokenIds(JsonElement array, string param)
    {
        var ids = new int[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id) || id < 0)
                throw ApiException.BadRequest($"'{param}' token ids must be integers >= 0, got {item.GetRawText()}.", param, "invalid_type");
            ids[i++] = id;
        }
        return ids;
    }

    private static IEnumerable<(string Role, string Content)> Messages(JsonFields f)
    {
        var value = f.Get("messages") ?? throw f.Missing("messages");
        if (value.ValueKind != JsonValueKind.Array)
            throw f.WrongType("messages", "a list of messages", value);
        if (value.GetArrayLength() == 0)
            throw ApiException.BadRequest("'messages' must not be empty.", "messages");
        var messages = new List<(string, string)>();
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            string name = $"messages[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
                throw ApiException.BadRequest($"'{name}' must be an object with 'role' and 'content', got {JsonBody.Describe(item.ValueKind)}.", name, "invalid_type");
            var m = new JsonFields(item, name + ".");
            string role = m.String("role", required: true)!;
            if (!ChatTemplate.Roles.Contains(role))
                throw ApiException.BadRequest($"'{name}.role' must be one of {string.Join(", ", ChatTemplate.Roles)}; got '{role}'.", name + ".role");
            messages.Add((role, Content(m)));
        }
        return messages;
    }

    /// <summary>A message's content: a string, or a list of text parts ({"type": "text", "text": ...}).</summary>
    private static string Content(JsonFields m)
    {
        if (m.Get("content") is not { } content)
            return "";
        if (content.ValueKind == JsonValueKind.String)
            return content.GetString()!;
        if (content.ValueKind != JsonValueKind.Array)
            throw m.WrongType("content", "a string or a list of text parts", content);
        var text = new System.Text.StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            var p = part.ValueKind == JsonValueKind.Object ? new JsonFields(part, m.Name("content") + "[].")
                : throw m.WrongType("content", "a list of text parts", part);
            if (p.String("type", required: true) != "text")
                throw Unsupported(m.Name("content"), "only text content parts are supported.");
            text.Append(p.String("text", required: true));
        }
        return text.ToString();
    }

    private static ApiException Unsupported(string param, string message) =>
        ApiException.BadRequest(message, param, "unsupported_parameter");
}
