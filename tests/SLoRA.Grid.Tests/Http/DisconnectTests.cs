using System.Net;
using System.Net.Http.Json;

namespace SLoRA.Grid.Tests.Http;

/// <summary>A client that goes away cancels its request: the engine frees its KV pages.</summary>
[Collection(HttpCollection.Name)]
public sealed class DisconnectTests(HttpGrid grid)
{
    [Theory]
    [InlineData("/generate_stream", """{"inputs": "A long story", "lora_dir": "http-a", "parameters": {"max_new_tokens": 400, "ignore_eos": true}}""")]
    [InlineData("/v1/chat/completions", """{"model": "demo-base", "messages": [{"role": "user", "content": "A long story"}], "max_tokens": 400, "stream": true}""")]
    [InlineData("/v1/completions", """{"model": "http-b", "prompt": "A long story", "max_tokens": 400}""")]
    public async Task A_client_that_disconnects_cancels_its_request_and_its_pages_return_to_free(string path, string body)
    {
        await grid.WaitForIdleEnginesAsync();
        using var client = new HttpClient();
        using var cancel = new CancellationTokenSource();
        var send = client.SendAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(grid.BaseUrl, path)) { Content = new StringContent(body) },
            HttpCompletionOption.ResponseHeadersRead, cancel.Token);

        // Wait until the request holds KV pages on an engine, then leave.
        await Fixtures.GridCluster.WaitUntilAsync(() => grid.Engines.Any(e => e.GetStats().PagesKv > 0), TimeSpan.FromSeconds(20), "the request to run");
        if (path.Contains("stream"))
        {
            using var response = await send;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var stream = await response.Content.ReadAsStreamAsync();
            await stream.ReadAtLeastAsync(new byte[64], 1);
        }
        cancel.Cancel();
        client.Dispose();

        await grid.WaitForIdleEnginesAsync();
        Assert.All(grid.Engines, e => Assert.Equal(0, e.GetStats().PagesKv));
    }

}
