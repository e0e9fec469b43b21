using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace SLoRA.Grid.Tests.Http;

/// <summary>S-LoRA's /generate and /generate_stream over plain HTTP.</summary>
[Collection(HttpCollection.Name)]
public sealed class GenerateEndpointTests(HttpGrid grid)
{
    private static object Request(int maxNewTokens, string? lora = HttpGrid.AdapterA) => new Dictionary<string, object?>
    {
        ["inputs"] = "The grid serves",
        ["lora_dir"] = lora,
        ["parameters"] = new { do_sample = false, max_new_tokens = maxNewTokens, ignore_eos = true },
    };

    [Fact]
    public async Task Generate_stream_sends_one_token_event_per_token_and_the_whole_text_last()
    {
        using var response = await grid.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(grid.BaseUrl, "/generate_stream")) { Content = JsonContent.Create(Request(6)) },
            HttpCompletionOption.ResponseHeadersRead);
        var events = await Sse.ReadAllAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(6, events.Count);
        var text = new StringBuilder();
        for (int i = 0; i < events.Count; i++)
        {
            var e = events[i]!.Value;
            var token = e.GetProperty("token");
            Assert.True(token.GetProperty("id").GetInt32() >= 0);
            Assert.True(token.GetProperty("logprob").GetSingle() <= 0);
            Assert.False(token.GetProperty("special").GetBoolean());
            text.Append(token.GetProperty("text").GetString());
            bool last = i == events.Count - 1;
            Assert.Equal(last ? JsonValueKind.String : JsonValueKind.Null, e.GetProperty("generated_text").ValueKind);
            Assert.Equal(last ? JsonValueKind.Object : JsonValueKind.Null, e.GetProperty("details").ValueKind);
        }
        Assert.Equal(text.ToString(), events[^1]!.Value.GetProperty("generated_text").GetString());

        var whole = await grid.PostForJsonAsync("/generate", Request(6));
        Assert.Equal(text.ToString(), whole.GetProperty("generated_text").GetString());
    }

    [Fact]
    public async Task Generate_without_lora_dir_runs_the_base_model_and_reports_details()
    {
        var body = new { inputs = new[] { 50256, 464, 1366 }, parameters = new { max_new_tokens = 4, ignore_eos = true, details = true } };

        var result = await grid.PostForJsonAsync("/generate", body);

        var details = result.GetProperty("details");
        Assert.Equal("length", details.GetProperty("finish_reason").GetString());
        Assert.Equal(4, details.GetProperty("generated_tokens").GetInt32());
        Assert.Equal(3, details.GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Stop_sequences_end_the_text_before_them()
    {
        var free = await grid.PostForJsonAsync("/generate", Request(12));
        string text = free.GetProperty("generated_text").GetString()!;
        string stop = text.Trim()[..2];
        var body = new Dictionary<string, object?>
        {
            ["inputs"] = "The grid serves",
            ["lora_dir"] = HttpGrid.AdapterA,
            ["parameters"] = new { max_new_tokens = 12, stop_sequences = new[] { stop }, details = true },
        };

        var stopped = await grid.PostForJsonAsync("/generate", body);

        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], stopped.GetProperty("generated_text").GetString());
        Assert.Equal("stop", stopped.GetProperty("details").GetProperty("finish_reason").GetString());
    }
}
