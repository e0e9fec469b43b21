using SLoRA.Engine.Adapters;
using SLoRA.Engine.Generation;
using SLoRA.Engine.Serving;
using SLoRA.Parity;

namespace SLoRA.Engine.Tests.Serving;

public sealed class LlmEngineTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private LlmEngine Engine => fixture.Engine;

    private static async Task<List<TokenChunk>> Run(IAsyncEnumerable<TokenChunk> stream, CancellationToken ct = default)
    {
        var chunks = new List<TokenChunk>();
        await foreach (var c in stream.WithCancellation(ct))
            chunks.Add(c);
        return chunks;
    }

    private static int[] Tokens(List<TokenChunk> chunks) => chunks.Where(c => c.TokenId >= 0).Select(c => c.TokenId).ToArray();

    private async Task WaitForIdle()
    {
        for (int i = 0; i < 200 && (Engine.GetStats().Running > 0 || Engine.GetStats().PagesKv > 0); i++)
            await Task.Delay(10);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_sampled_tokens_and_another_seed_other_tokens()
    {
        var sampling = new SamplingParams { Temperature = 1.5f, TopK = 100, TopP = 0.95f, Seed = 42, MaxNewTokens = 16, IgnoreEos = true };
        var prompt = "The quick brown fox";
        var a = Tokens(await Run(Engine.Generate(new GenerationRequest { Prompt = prompt, Sampling = sampling })));
        var b = Tokens(await Run(Engine.Generate(new GenerationRequest { Prompt = prompt, Sampling = sampling })));
        var c = Tokens(await Run(Engine.Generate(new GenerationRequest { Prompt = prompt, Sampling = sampling with { Seed = 7 } })));
        Assert.Equal(16, a.Length);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public async Task Streamed_text_is_the_decoded_tokens_and_the_last_chunk_says_why_it_ended()
    {
        var chunks = await Run(Engine.Generate(new GenerationRequest { Prompt = "Hello world", Sampling = SamplingParams.Greedy(12) with { IgnoreEos = true } }));
        Assert.Equal(FinishReason.Length, chunks[^1].FinishReason);
        Assert.All(chunks[..^1], c => Assert.Null(c.FinishReason));
        Assert.Equal(Engine.Tokenizer!.Decode(Tokens(chunks)), string.Concat(chunks.Select(c => c.Text)));
    }

    [Fact]
    public async Task A_stop_token_ends_the_request_there()
    {
        var greedy = Tokens(await Run(Engine.Generate(new GenerationRequest { Prompt = "Hello world", Sampling = SamplingParams.Greedy(10) with { IgnoreEos = true } })));
        int stop = greedy[3];
        int firstAt = Array.IndexOf(greedy, stop);
        var chunks = await Run(Engine.Generate(new GenerationRequest
        {
            Prompt = "Hello world",
            Sampling = SamplingParams.Greedy(10) with { IgnoreEos = true, StopTokenIds = [stop] },
        }));
        Assert.Equal(greedy[..(firstAt + 1)], Tokens(chunks));
        Assert.Equal(FinishReason.Stop, chunks[^1].FinishReason);
    }

    [Fact]
    public async Task A_stop_string_ends_the_text_before_it()
    {
        var full = await Run(Engine.Generate(new GenerationRequest { Prompt = "The quick", Sampling = SamplingParams.Greedy(20) with { IgnoreEos = true } }));
        string text = string.Concat(full.Select(c => c.Text));
        Assert.True(text.Length > 6, $"need some text to cut: '{text}'");
        string stop = text.Substring(text.Length / 2, 3);
        var cut = await Run(Engine.Generate(new GenerationRequest
        {
            Prompt = "The quick",
            Sampling = SamplingParams.Greedy(20) with { IgnoreEos = true, StopStrings = [stop] },
        }));
        Assert.Equal(FinishReason.Stop, cut[^1].FinishReason);
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], string.Concat(cut.Select(c => c.Text)));
    }

    [Theory]
    [InlineData(-0.5f, 0, 1f, 8, "temperature")]
    [InlineData(float.NaN, 0, 1f, 8, "temperature")]
    [InlineData(1f, -1, 1f, 8, "top_k")]
    [InlineData(1f, 0, 0f, 8, "top_p")]
    [InlineData(1f, 0, 1.5f, 8, "top_p")]
    [InlineData(1f, 0, 1f, 0, "max_new_tokens")]
    [InlineData(1f, 0, 1f, 100_000, "max_new_tokens")]
    public void Bad_sampling_parameters_are_refused_at_submit(float temperature, int topK, float topP, int maxNew, string param)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Engine.Generate(new GenerationRequest
        {
            Prompt = "hi",
            Sampling = new SamplingParams { Temperature = temperature, TopK = topK, TopP = topP, MaxNewTokens = maxNew },
        }));
        Assert.Equal(param, e.ParamName);
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_refused_with_a_clear_message()
    {
        var prompt = Enumerable.Repeat(5, Engine.Config.MaxPositionEmbeddings + 3).ToArray();
        var e = Assert.ThrowsAny<ArgumentException>(() => Engine.Generate(new GenerationRequest { PromptTokens = prompt }));
        Assert.Contains("max_position_embeddings", e.Message);
        Assert.Contains(prompt.Length.ToString(), e.Message);
    }

    [Fact]
    public void Prompt_token_ids_outside_the_vocabulary_and_empty_prompts_are_refused()
    {
        Assert.ThrowsAny<ArgumentException>(() => Engine.Generate(new GenerationRequest { PromptTokens = [1, Engine.Config.VocabSize] }));
        Assert.ThrowsAny<ArgumentException>(() => Engine.Generate(new GenerationRequest { PromptTokens = [] }));
        Assert.ThrowsAny<ArgumentException>(() => Engine.Generate(new GenerationRequest()));
    }

    [Fact]
    public void An_unknown_adapter_is_an_error_never_the_base_model()
    {
        var e = Assert.Throws<UnknownAdapterException>(() => Engine.Generate(new GenerationRequest { Prompt = "hi", AdapterId = "nobody" }));
        Assert.Equal("nobody", e.AdapterId);
    }

    [Fact]
    public async Task Cancelling_a_request_frees_its_pages_and_leaves_others_running()
    {
        using var cts = new CancellationTokenSource();
        var sampling = SamplingParams.Greedy(200) with { IgnoreEos = true };
        var victim = Run(Engine.Generate(new GenerationRequest { Prompt = "one", Sampling = sampling }, cts.Token));
        var other = Run(Engine.Generate(new GenerationRequest { Prompt = "two", Sampling = SamplingParams.Greedy(30) with { IgnoreEos = true } }));
        while (Engine.GetStats().GeneratedTokens == 0)
            await Task.Delay(1);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => victim);
        var survivor = await other;
        Assert.Equal(30, Tokens(survivor).Length);
        await WaitForIdle();
        Assert.Equal(0, Engine.GetStats().PagesKv);
    }

    [Fact]
    public async Task Leaving_the_stream_early_cancels_the_request()
    {
        await foreach (var chunk in Engine.Generate(new GenerationRequest { Prompt = "one", Sampling = SamplingParams.Greedy(200) with { IgnoreEos = true } }))
            break;
        await WaitForIdle();
        Assert.Equal(0, Engine.GetStats().PagesKv);
    }

    [Fact]
    public async Task Adapters_that_do_not_fit_are_refused_and_harm_nothing()
    {
        var tied = LlamaConfigOf("llama-tied");
        var foreign = LoraAdapter.Synthetic(tied, "foreign", 4, ["q_proj"], seed: 1);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Engine.RegisterAdapterAsync(foreign));
        var tooBig = LoraAdapter.Synthetic(Engine.Config, "too-big", 32, ["q_proj"], seed: 1);
        var e = await Assert.ThrowsAnyAsync<ArgumentException>(() => Engine.RegisterAdapterAsync(tooBig));
        Assert.Contains("rank 32", e.Message);
        Assert.False(Engine.HasAdapter("foreign") || Engine.HasAdapter("too-big"));
        var after = await Run(Engine.Generate(new GenerationRequest { Prompt = "hi", Sampling = SamplingParams.Greedy(4) with { IgnoreEos = true } }));
        Assert.Equal(4, Tokens(after).Length);
    }

    [Fact]
    public async Task Unregistering_an_idle_adapter_returns_its_pages()
    {
        var adapter = LoraAdapter.Synthetic(Engine.Config, "temp", 8, ["q_proj", "v_proj", "down_proj"], seed: 3);
        await Engine.RegisterAdapterAsync(adapter);
        var tokens = Tokens(await Run(Engine.Generate(new GenerationRequest { Prompt = "hi", AdapterId = "temp", Sampling = SamplingParams.Greedy(4) with { IgnoreEos = true } })));
        Assert.Equal(4, tokens.Length);
        await WaitForIdle();
        Assert.True(Engine.GetStats().PagesAdapter > 0);
        Assert.True(await Engine.UnregisterAdapterAsync("temp"));
        Assert.Equal(0, Engine.GetStats().PagesAdapter);
        Assert.False(await Engine.UnregisterAdapterAsync("temp"));
        Assert.Throws<UnknownAdapterException>(() => Engine.Generate(new GenerationRequest { Prompt = "hi", AdapterId = "temp" }));
    }

    private static SLoRA.Engine.Model.LlamaConfig LlamaConfigOf(string model) =>
        SLoRA.Engine.Model.LlamaConfig.Load(Path.Combine(Fixtures.Model(model), "config.json"));
}

public sealed class LlmEngineLimitsTests
{
    [Fact]
    public async Task A_full_queue_is_refused_as_overload_not_a_crash()
    {
        await using var engine = await LlmEngine.StartAsync(ModelSource.Folder(Fixtures.Model("llama-gqa")), EngineFixture.Options with { MaxWaitingRequests = 3 });
        var sampling = SamplingParams.Greedy(50) with { IgnoreEos = true };
        var accepted = new List<IAsyncEnumerable<TokenChunk>>();
        Assert.Throws<EngineOverloadedException>(() =>
        {
            for (int i = 0; i < 50; i++)
                accepted.Add(engine.Generate(new GenerationRequest { PromptTokens = [1, 2, 3], Sampling = sampling }));
        });
        Assert.InRange(accepted.Count, 3, 49);
        foreach (var stream in accepted)
        {
            await foreach (var _ in stream)
            {
            }
        }
        // Once the queue drains, requests are accepted again.
        await foreach (var _ in engine.Generate(new GenerationRequest { PromptTokens = [1, 2, 3], Sampling = SamplingParams.Greedy(2) }))
        {
        }
    }

    [Fact]
    public async Task A_request_that_cannot_meet_its_first_token_deadline_ends_early_with_a_distinct_reason()
    {
        var options = EngineFixture.Options with { Scheduler = new() { MaxBatchSequences = 1 } };
        await using var engine = await LlmEngine.StartAsync(ModelSource.Folder(Fixtures.Model("llama-gqa")), options);
        var blocker = engine.Generate(new GenerationRequest { PromptTokens = [1, 2, 3], Sampling = SamplingParams.Greedy(120) with { IgnoreEos = true } });
        var late = engine.Generate(new GenerationRequest
        {
            PromptTokens = [1, 2, 3],
            FirstTokenDeadline = TimeSpan.FromMilliseconds(50),
            Sampling = SamplingParams.Greedy(4),
        });
        var lateChunks = new List<TokenChunk>();
        await foreach (var c in late)
            lateChunks.Add(c);
        Assert.Equal(FinishReason.DeadlineExceeded, Assert.Single(lateChunks).FinishReason);
        await foreach (var _ in blocker)
        {
        }
    }
}
