using System.ClientModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using MeaiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using MeaiChatRole = Microsoft.Extensions.AI.ChatRole;

namespace Mulan.Tests.Gateway;

/// <summary>Compatibility is proven with clients nobody here wrote: the official OpenAI .NET SDK and
/// Microsoft.Extensions.AI, pointed at a running Mulan exactly as a user would.</summary>
public sealed class RealClientTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private OpenAIClient _openai = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        var key = await _host.CreateKeyAsync(new { name = "sdk" });
        _openai = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = _host.V1 });
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task OpenAI_sdk_chat()
    {
        ChatCompletion completion = await _openai.GetChatClient("chat").CompleteChatAsync([new UserChatMessage("Hello"), new UserChatMessage("你好")]);
        Assert.False(string.IsNullOrWhiteSpace(completion.Content[0].Text));
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, completion.FinishReason);
        Assert.True(completion.Usage.InputTokenCount > 0);
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.Equal(completion.Usage.OutputTokenCount, record["outputTokens"]!.GetValue<int>());
        Assert.Equal(completion.Id, record["upstreamId"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpenAI_sdk_streaming_with_usage()
    {
        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in _openai.GetChatClient("chat-cny").CompleteChatStreamingAsync(
            [new UserChatMessage("Stream please")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            usage ??= update.Usage;
        }
        Assert.Equal(20, text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.NotNull(usage); // the SDK asks for include_usage itself
        Assert.Equal(20, usage!.OutputTokenCount);
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.Equal("ok", record["status"]!.GetValue<string>());
        Assert.Equal("CNY", record["cost"]!["currency"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpenAI_sdk_tool_calls_streamed_and_not()
    {
        var tool = ChatTool.CreateFunctionTool("get_weather", "Weather for a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };
        ChatCompletion completion = await _openai.GetChatClient("chat-tools").CompleteChatAsync([new UserChatMessage("Weather in Paris?")], options);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Equal("get_weather", completion.ToolCalls[0].FunctionName);
        Assert.Equal("Paris", JsonDocument.Parse(completion.ToolCalls[0].FunctionArguments).RootElement.GetProperty("city").GetString());

        var arguments = new Dictionary<int, System.Text.StringBuilder>();
        var names = new Dictionary<int, string>();
        await foreach (var update in _openai.GetChatClient("chat-tools").CompleteChatStreamingAsync([new UserChatMessage("Weather in Paris?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                if (call.FunctionName is { } name)
                {
                    names[call.Index] = name;
                }
                (arguments.TryGetValue(call.Index, out var sb) ? sb : arguments[call.Index] = new()).Append(call.FunctionArgumentsUpdate?.ToString());
            }
        }
        Assert.Equal(["get_weather", "get_time"], names.OrderBy(n => n.Key).Select(n => n.Value));
        Assert.Equal("""{"tz":"Europe/Paris"}""", arguments[1].ToString());
    }

    [Fact]
    public async Task OpenAI_sdk_embeddings()
    {
        OpenAIEmbeddingCollection embeddings = await _openai.GetEmbeddingClient("embed").GenerateEmbeddingsAsync(["first", "第二"]);
        Assert.Equal(2, embeddings.Count);
        Assert.Equal(16, embeddings[0].ToFloats().Length);
        Assert.NotEqual(embeddings[0].ToFloats().ToArray(), embeddings[1].ToFloats().ToArray());
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.Equal("embeddings", record["endpoint"]!.GetValue<string>());
        Assert.True(record["inputTokens"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task OpenAI_sdk_sees_gateway_errors_as_client_errors()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => _openai.GetChatClient("no-such-model").CompleteChatAsync([new UserChatMessage("x")]));
        Assert.Equal(404, error.Status);
        Assert.Contains("model_not_found", error.Message);
    }

    [Fact]
    public async Task Extensions_AI_chat_client_and_embedding_generator()
    {
        IChatClient chat = _openai.GetChatClient("chat").AsIChatClient();
        var response = await chat.GetResponseAsync([new MeaiChatMessage(MeaiChatRole.User, "Hi there")]);
        Assert.False(string.IsNullOrWhiteSpace(response.Text));
        Assert.True(response.Usage?.TotalTokenCount > 0);

        var streamed = new System.Text.StringBuilder();
        await foreach (var update in chat.GetStreamingResponseAsync("Stream to me"))
        {
            streamed.Append(update.Text);
        }
        Assert.Equal(12, streamed.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);

        IEmbeddingGenerator<string, Embedding<float>> generator = _openai.GetEmbeddingClient("embed").AsIEmbeddingGenerator();
        var vectors = await generator.GenerateAsync(["一", "two"]);
        Assert.Equal(2, vectors.Count);

        var records = await _host.UsageRecordsAsync();
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal("reported", r["usage"]!.GetValue<string>()));
    }
}
