using System.Net;
using System.Text.Json;

namespace SLoRA.Grid.Tests.Http;

/// <summary>Every kind of bad input is a 4xx with OpenAI's error body, and the silo serves on.</summary>
[Collection(HttpCollection.Name)]
public sealed class BadInputTests(HttpGrid grid)
{
    private static readonly string LongPrompt = string.Concat(Enumerable.Repeat("hello ", 600));

    public static TheoryData<string, string, int, string?, string?> Cases => new()
    {
        // path, body, status, param, code
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi",""", 400, null, "invalid_json" },
        { "/v1/completions", "[1, 2]", 400, null, "invalid_json" },
        { "/v1/completions", "", 400, null, "invalid_json" },
        { "/v1/completions", """{"prompt": "Hi"}""", 400, "model", "missing_required_parameter" },
        { "/v1/completions", """{"model": 42, "prompt": "Hi"}""", 400, "model", "invalid_type" },
        { "/v1/completions", """{"model": "http-a"}""", 400, "prompt", "missing_required_parameter" },
        { "/v1/completions", """{"model": "http-a", "prompt": {"a": 1}}""", 400, "prompt", "invalid_type" },
        { "/v1/completions", """{"model": "http-a", "prompt": [1, -5]}""", 400, "prompt", "invalid_type" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "max_tokens": "ten"}""", 400, "max_tokens", "invalid_type" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "max_tokens": 2.5}""", 400, "max_tokens", "invalid_type" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "max_tokens": 0}""", 400, "max_tokens", "invalid_value" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "max_tokens": 100000}""", 400, "max_tokens", "invalid_value" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "temperature": 7}""", 400, "temperature", "invalid_value" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "temperature": "hot"}""", 400, "temperature", "invalid_type" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "top_p": 0}""", 400, "top_p", "invalid_value" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "n": 2}""", 400, "n", "unsupported_parameter" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "stop": ["a", "b", "c", "d", "e"]}""", 400, "stop", "invalid_value" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "stop": 3}""", 400, "stop", "invalid_type" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "seed": "x"}""", 400, "seed", "invalid_type" },
        { "/v1/completions", """{"model": "http-a", "prompt": "Hi", "stream": "yes"}""", 400, "stream", "invalid_type" },
        { "/v1/completions", """{"model": "no-such-adapter", "prompt": "Hi"}""", 404, "model", "model_not_found" },
        { "/v1/completions", """{"model": "../etc/passwd", "prompt": "Hi"}""", 404, "model", "model_not_found" },
        { "/v1/completions", $$"""{"model": "http-a", "prompt": "{{LongPrompt}}"}""", 400, "prompt", "invalid_value" },
        { "/v1/completions", """{"model": "demo-base", "prompt": [1, 99999999]}""", 400, "prompt", "invalid_value" },
        { "/v1/chat/completions", """{"model": "http-a", "messages": "Hi"}""", 400, "messages", "invalid_type" },
        { "/v1/chat/completions", """{"model": "http-a", "messages": []}""", 400, "messages", "invalid_value" },
        { "/v1/chat/completions", """{"model": "http-a", "messages": [{"role": "wizard", "content": "Hi"}]}""", 400, "messages[0].role", "invalid_value" },
        { "/v1/chat/completions", """{"model": "http-a", "messages": [{"content": "Hi"}]}""", 400, "messages[0].role", "missing_required_parameter" },
        { "/v1/chat/completions", """{"model": "http-a", "messages": [{"role": "user", "content": "Hi"}], "n": 3}""", 400, "n", "unsupported_parameter" },
        { "/v1/chat/completions", """{"model": "nobody", "messages": [{"role": "user", "content": "Hi"}], "stream": true}""", 404, "model", "model_not_found" },
        { "/v1/chat/completions", $$"""{"model": "http-b", "messages": [{"role": "user", "content": "{{LongPrompt}}"}]}""", 400, "messages", "invalid_value" },
        { "/generate", """{"lora_dir": "http-a"}""", 400, "inputs", "missing_required_parameter" },
        { "/generate", """{"inputs": "Hi", "lora_dir": "nobody"}""", 404, "lora_dir", "model_not_found" },
        { "/generate", """{"inputs": "Hi", "parameters": {"max_new_tokens": 0}}""", 400, "parameters.max_new_tokens", "invalid_value" },
        { "/generate", """{"inputs": "Hi", "parameters": {"top_k": -3}}""", 400, "parameters.top_k", "invalid_value" },
        { "/generate", """{"inputs": "Hi", "parameters": "fast"}""", 400, "parameters", "invalid_type" },
        { "/generate_stream", """{"inputs": "Hi", "lora_dir": "nobody"}""", 404, "lora_dir", "model_not_found" },
        { "/generate_stream", $$"""{"inputs": "{{LongPrompt}}"}""", 400, "inputs", "invalid_value" },
        { "/generate_stream", """{"inputs": 5}""", 400, "inputs", "invalid_type" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_is_a_4xx_with_an_openai_error_body(string path, string body, int status, string? param, string? code)
    {
        using var response = await grid.PostJsonAsync(path, body);

        var error = await ErrorBody.ReadAsync(response, (HttpStatusCode)status);
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_silo_serves_on_after_bad_input()
    {
        foreach (var row in Cases)
        {
            using var _ = await grid.PostJsonAsync((string)row[0], (string)row[1]);
        }

        var result = await grid.PostForJsonAsync("/v1/completions", new { model = HttpGrid.AdapterA, prompt = "Still here?", max_tokens = 3 });

        Assert.Equal(3, result.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task A_full_queue_is_a_429_with_retry_after_and_the_silo_serves_on()
    {
        // Every request goes to the one silo where http-b is active: 4 run, 6 wait, the rest are refused.
        const int requests = 24;
        using var cancel = new CancellationTokenSource();
        var body = """{"inputs": "Overload", "lora_dir": "http-b", "parameters": {"max_new_tokens": 200, "ignore_eos": true}}""";
        var pending = Enumerable.Range(0, requests).Select(_ => grid.Http.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, new Uri(grid.BaseUrl, "/generate_stream")) { Content = new StringContent(body) },
            HttpCompletionOption.ResponseHeadersRead, cancel.Token)).ToList();
        var answered = new List<HttpResponseMessage>();
        HttpResponseMessage? refused = null;
        try
        {
            while (pending.Count > 0 && refused is null)
            {
                var next = await Task.WhenAny(pending);
                pending.Remove(next);
                var response = await next;
                answered.Add(response);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    refused = response;
            }

            Assert.NotNull(refused);
            var error = await ErrorBody.ReadAsync(refused, HttpStatusCode.TooManyRequests);
            Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
            Assert.Equal("overloaded", error.GetProperty("code").GetString());
            Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {refused.Headers.RetryAfter}");
        }
        finally
        {
            cancel.Cancel();
            foreach (var r in answered)
                r.Dispose();
            foreach (var p in pending)
            {
                try
                {
                    (await p).Dispose();
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        await grid.WaitForIdleEnginesAsync();
        var result = await grid.PostForJsonAsync("/generate", JsonDocument.Parse("""{"inputs": "After", "lora_dir": "http-b", "parameters": {"max_new_tokens": 2}}""").RootElement);
        Assert.Equal(JsonValueKind.String, result.GetProperty("generated_text").ValueKind);
    }
}
