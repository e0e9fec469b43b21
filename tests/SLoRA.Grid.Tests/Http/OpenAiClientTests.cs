using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;

namespace SLoRA.Grid.Tests.Http;

/// <summary>The facade driven by the official OpenAI .NET client.</summary>
[Collection(HttpCollection.Name)]
public sealed class OpenAiClientTests(HttpGrid grid)
{
    private static readonly ChatMessage[] Conversation = [new SystemChatMessage("You are terse."), new UserChatMessage("Name a colour.")];

    [Fact]
    public async Task Chat_completions_whole_and_streamed_give_the_same_greedy_text_and_usage()
    {
        var chat = grid.OpenAi().GetChatClient(HttpGrid.AdapterA);
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };

        ChatCompletion whole = await chat.CompleteChatAsync(Conversation, options);
        var streamed = new StringBuilder();
        ChatTokenUsage? streamedUsage = null;
        ChatFinishReason? streamedFinish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(Conversation, options))
        {
            foreach (var part in update.ContentUpdate)
                streamed.Append(part.Text);
            streamedUsage = update.Usage ?? streamedUsage;
            streamedFinish = update.FinishReason ?? streamedFinish;
        }

        Assert.Equal(ChatMessageRole.Assistant, whole.Role);
        Assert.False(string.IsNullOrEmpty(whole.Content[0].Text));
        Assert.Equal(whole.Content[0].Text, streamed.ToString());
        Assert.True(whole.Usage.InputTokenCount > 10, $"prompt tokens {whole.Usage.InputTokenCount}");
        Assert.InRange(whole.Usage.OutputTokenCount, 1, 12);
        Assert.Equal(whole.Usage.InputTokenCount + whole.Usage.OutputTokenCount, whole.Usage.TotalTokenCount);
        Assert.Equal(whole.FinishReason, streamedFinish);
        Assert.NotNull(streamedUsage);
        Assert.Equal(whole.Usage.OutputTokenCount, streamedUsage.OutputTokenCount);
        Assert.Equal(whole.Usage.InputTokenCount, streamedUsage.InputTokenCount);
    }

    [Fact]
    public async Task Text_completions_through_the_clients_pipeline_whole_and_streamed_agree()
    {
        // The OpenAI .NET client keeps its legacy-completions client internal; its public pipeline
        // (authentication, transport, error handling) still carries the request.
        var body = new { model = HttpGrid.AdapterB, prompt = "Once upon a time", max_tokens = 10, temperature = 0 };

        using var whole = await CompletionAsync(body, stream: false);
        var json = JsonDocument.Parse(whole.Response!.Content).RootElement;
        using var streamed = await CompletionAsync(body, stream: true);
        var text = new StringBuilder();
        string? finish = null;
        JsonElement? usage = null;
        using (var reader = new StreamReader(streamed.Response!.ContentStream!))
        {
            var last = "";
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    continue;
                last = line["data: ".Length..];
                if (last == "[DONE]")
                    break;
                var chunk = JsonDocument.Parse(last).RootElement;
                Assert.Equal("text_completion", chunk.GetProperty("object").GetString());
                if (chunk.GetProperty("usage").ValueKind == JsonValueKind.Object)
                    usage = chunk.GetProperty("usage").Clone();
                foreach (var choice in chunk.GetProperty("choices").EnumerateArray())
                {
                    text.Append(choice.GetProperty("text").GetString());
                    finish = choice.GetProperty("finish_reason").GetString() ?? finish;
                }
            }
            Assert.Equal("[DONE]", last);
        }

        var choiceWhole = json.GetProperty("choices")[0];
        Assert.Equal("text_completion", json.GetProperty("object").GetString());
        Assert.Equal(HttpGrid.AdapterB, json.GetProperty("model").GetString());
        Assert.Equal(choiceWhole.GetProperty("text").GetString(), text.ToString());
        Assert.Equal(choiceWhole.GetProperty("finish_reason").GetString(), finish);
        Assert.Equal("length", finish);
        Assert.Equal(10, json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(5, json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32()); // BOS + 4 GPT-2 tokens
        Assert.NotNull(usage);
        Assert.Equal(15, usage.Value.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Two_adapters_and_the_base_model_answer_side_by_side()
    {
        var client = grid.OpenAi();
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 16 };
        string[] models = [HttpGrid.AdapterA, HttpGrid.AdapterB, HttpGrid.BaseModel];

        var alone = new List<string>();
        foreach (var model in models)
            alone.Add((await client.GetChatClient(model).CompleteChatAsync(Conversation, options)).Value.Content[0].Text);
        var together = await Task.WhenAll(models.Select(async m =>
            (await client.GetChatClient(m).CompleteChatAsync(Conversation, options)).Value.Content[0].Text));

        // Batched together, each request gets what it gets alone; the adapters change the base model's answer.
        Assert.Equal(alone, together);
        Assert.Equal(3, alone.Distinct().Count());
    }

    [Fact]
    public async Task An_unknown_model_is_a_404_for_the_client_never_the_base_model()
    {
        var chat = grid.OpenAi().GetChatClient("no-such-adapter");

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync(Conversation));

        Assert.Equal(404, error.Status);
        Assert.Contains("no-such-adapter", error.Message);
    }

    private async Task<PipelineMessage> CompletionAsync(object body, bool stream)
    {
        var pipeline = grid.OpenAi().Pipeline;
        var message = pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(grid.BaseUrl, "/v1/completions");
        message.Request.Headers.Set("Content-Type", "application/json");
        var json = JsonSerializer.SerializeToNode(body)!.AsObject();
        if (stream)
        {
            json["stream"] = true;
            json["stream_options"] = new System.Text.Json.Nodes.JsonObject { ["include_usage"] = true };
        }
        message.Request.Content = BinaryContent.Create(BinaryData.FromString(json.ToJsonString()));
        message.BufferResponse = !stream;
        await pipeline.SendAsync(message);
        Assert.Equal(200, message.Response!.Status);
        return message;
    }
}
