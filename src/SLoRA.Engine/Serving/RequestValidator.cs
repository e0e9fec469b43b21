using SLoRA.Engine.Model;
using SLoRA.Engine.Tokenization;

namespace SLoRA.Engine.Serving;

/// <summary>
/// Checks a request where it enters the engine, before anything is queued: the prompt (text or
/// ids, inside the vocabulary and the context), the sampling parameters, the stop strings, the
/// deadline, and that the request could ever fit the page pool with its adapter. Every refusal is
/// an <see cref="ArgumentException"/> naming the parameter.
/// </summary>
internal sealed class RequestValidator(LlamaConfig config, TextTokenizer? tokenizer, int poolPages)
{
    /// <summary>The prompt's token ids, once the whole request has been checked.</summary>
    public int[] Validate(GenerationRequest request, int adapterPages)
    {
        var prompt = ResolvePrompt(request);
        var sampling = request.Sampling;
        sampling.Validate(Math.Max(1, config.MaxPositionEmbeddings - prompt.Length));
        if (sampling.StopStrings.Count > 0 && tokenizer is null)
            throw new ArgumentException("stop strings need a tokenizer; this model has none.", "stop");
        // A request must fit the pool on its own (with its adapter), or it could never start.
        int worstCase = prompt.Length + sampling.MaxNewTokens;
        if (worstCase + adapterPages > poolPages)
            throw new ArgumentException($"prompt + max_new_tokens = {worstCase} tokens{(adapterPages > 0 ? $" plus the adapter's {adapterPages} pages" : "")} exceeds the page pool's {poolPages} pages.", "max_new_tokens");
        if (request.FirstTokenDeadline is { } d && d <= TimeSpan.Zero)
            throw new ArgumentException($"first-token deadline must be positive, got {d}.", "deadline");
        return prompt;
    }

    /// <summary>Tokenizes a text prompt (BOS when the model's tokenizer adds one) and checks it.</summary>
    public int[] TokenizePrompt(string text)
    {
        if (tokenizer is null)
            throw new ArgumentException("this model has no tokenizer; give the prompt as token ids.", "prompt");
        int[] prompt = [.. tokenizer.Encode(text, addBos: tokenizer.BosTokenId is not null)];
        CheckPrompt(prompt, fromText: true);
        return prompt;
    }

    private int[] ResolvePrompt(GenerationRequest request)
    {
        if (request.PromptTokens is { } ids)
        {
            int[] prompt = [.. ids];
            CheckPrompt(prompt, fromText: false);
            return prompt;
        }
        if (request.Prompt is { } text)
            return TokenizePrompt(text);
        throw new ArgumentException("a prompt is required (text or token ids).", "prompt");
    }

    private void CheckPrompt(int[] prompt, bool fromText)
    {
        if (prompt.Length == 0)
            throw new ArgumentException("the prompt is empty.", "prompt");
        foreach (int id in prompt)
        {
            // Also for text: a tokenizer with more tokens than the model embeds must not reach a kernel.
            if ((uint)id >= (uint)config.VocabSize)
                throw new ArgumentException(fromText
                    ? $"the prompt's text gives token id {id}, outside this model's vocabulary of {config.VocabSize}: the model's tokenizer does not match it; send token ids."
                    : $"prompt token id {id} is outside the model's vocabulary [0, {config.VocabSize}).", "prompt");
        }
        if (prompt.Length >= config.MaxPositionEmbeddings)
            throw new ArgumentException($"the prompt has {prompt.Length} tokens; the model's context (max_position_embeddings) is {config.MaxPositionEmbeddings}, and at least one new token must fit.", "prompt");
    }
}
