using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Chat;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>
/// The checks every adapter must pass end to end, written once: the official OpenAI SDK through Mulan to a vendor's
/// fake (chat, stream, tools), the ledger against the fake's bills, and the contract's error codes.
/// </summary>
internal static class AdapterChecks
{
    /// <summary>A body for the error-mapping tables: JSON, or null for a body that is not JSON (an HTML error page).</summary>
    public static JsonNode? JsonOrNull(string body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// One completion (with a system prompt) and one stream of <paramref name="model"/>, each <paramref name="words"/> words long;
    /// <paramref name="streamed"/>, if given, receives the stream's updates for a test to check more of them.
    /// </summary>
    public static async Task ChatAndStreamAsync(OpenAIClient openai, string model, int words, ICollection<StreamingChatCompletionUpdate>? streamed = null)
    {
        ChatCompletion completion = await openai.GetChatClient(model).CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Hello")]);
        Assert.Equal(words, completion.Content[0].Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(words, completion.Usage.OutputTokenCount);

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in openai.GetChatClient(model).CompleteChatStreamingAsync([new UserChatMessage("Stream please")]))
        {
            text.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
            usage ??= update.Usage;
            streamed?.Add(update);
        }
        Assert.Equal(words, text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(words, usage!.OutputTokenCount);
    }

    /// <summary>
    /// Each of the <paramref name="count"/> usage records equals the fake's bill for it, as reported usage of <paramref name="provider"/>,
    /// and, if <paramref name="outcome"/> is given, every bill ended that way; returns the records.
    /// </summary>
    public static async Task<IReadOnlyList<JsonObject>> RecordsMatchBillsAsync(MulanHost host, int count, string provider, string usage = "reported",
        string? outcome = null)
    {
        var records = await host.WaitForRecordsAsync(count);
        var bills = host.Vendor.Ledger.Bills;
        Assert.Equal(count, bills.Count);
        foreach (var record in records)
        {
            var bill = Assert.Single(bills, b => b.MulanRequestId == record["requestId"]!.GetValue<string>());
            if (outcome is not null)
            {
                Assert.Equal(outcome, bill.Outcome);
            }
            Assert.Equal(bill.PromptTokens, record["inputTokens"]!.GetValue<int>());
            Assert.Equal(bill.CompletionTokens, record["outputTokens"]!.GetValue<int>());
            Assert.Equal(usage, record["usage"]!.GetValue<string>());
            Assert.Equal(provider, record["provider"]!.GetValue<string>());
        }
        return records;
    }

    public static ChatCompletionOptions WeatherTool() => new()
    {
        Tools =
        {
            ChatTool.CreateFunctionTool("get_weather", "Weather for a city",
                BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""")),
        },
    };

    /// <summary>
    /// The fakes' scripted answer to a tools request (get_weather for Paris, get_time for Europe/Paris), asked for
    /// without and with streaming; returns the non-streamed completion so a test can send the tool results back.
    /// </summary>
    /// <param name="options">the tools offered; <see cref="WeatherTool"/> if not given.</param>
    /// <param name="argumentsVerbatim">the streamed get_weather arguments must be the fake's text exactly, not just JSON for Paris.</param>
    /// <param name="streamed">if given, receives the stream's updates for a test to check more of them.</param>
    public static async Task<ChatCompletion> ToolCallsStreamedAndNotAsync(OpenAIClient openai, string model, ChatCompletionOptions? options = null,
        bool argumentsVerbatim = false, ICollection<StreamingChatCompletionUpdate>? streamed = null)
    {
        options ??= WeatherTool();
        ChatCompletion completion = await openai.GetChatClient(model).CompleteChatAsync([new UserChatMessage("Weather in Paris?")], options);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Equal(["get_weather", "get_time"], completion.ToolCalls.Select(c => c.FunctionName));
        Assert.Equal("Paris", JsonDocument.Parse(completion.ToolCalls[0].FunctionArguments).RootElement.GetProperty("city").GetString());

        var arguments = new Dictionary<int, StringBuilder>();
        var names = new Dictionary<int, string>();
        OpenAI.Chat.ChatFinishReason? finish = null;
        await foreach (var update in openai.GetChatClient(model).CompleteChatStreamingAsync([new UserChatMessage("Weather in Paris?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                if (call.FunctionName is { } name)
                {
                    names[call.Index] = name;
                }
                (arguments.TryGetValue(call.Index, out var sb) ? sb : arguments[call.Index] = new StringBuilder()).Append(call.FunctionArgumentsUpdate.ToString());
            }
            finish ??= update.FinishReason;
            streamed?.Add(update);
        }
        Assert.Equal(OpenAI.Chat.ChatFinishReason.ToolCalls, finish);
        Assert.Equal("get_weather", names[0]);
        Assert.Equal("get_time", names[1]);
        Assert.Equal("Paris", JsonDocument.Parse(arguments[0].ToString()).RootElement.GetProperty("city").GetString());
        if (argumentsVerbatim)
        {
            Assert.Equal("""{"city":"Paris"}""", arguments[0].ToString());
        }
        Assert.Equal("""{"tz":"Europe/Paris"}""", arguments[1].ToString());
        return completion;
    }

    /// <summary>The conversation after <paramref name="completion"/>'s tool calls, with their results.</summary>
    public static List<OpenAI.Chat.ChatMessage> WithToolResults(ChatCompletion completion) =>
        [new UserChatMessage("Weather in Paris?"), new AssistantChatMessage(completion),
            new ToolChatMessage(completion.ToolCalls[0].Id, "18C"), new ToolChatMessage(completion.ToolCalls[1].Id, "noon")];

    /// <summary>
    /// A failing vendor seen by the client: the contract's status and code as JSON, no secret, and <paramref name="records"/> records
    /// so far (this call's the last), all costing nothing.
    /// </summary>
    public static async Task<JsonNode> ContractErrorAsync(MulanHost host, HttpClient client, string model, HttpStatusCode status, string code,
        bool stream = false, int records = 1, params string[] secrets)
    {
        using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model, stream, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal(code, error["code"]!.GetValue<string>());
        foreach (var secret in secrets.Append(host.Vendor.ApiKey))
        {
            Assert.DoesNotContain(secret, error["message"]!.GetValue<string>());
        }
        var recorded = await host.WaitForRecordsAsync(records);
        Assert.Equal(records, recorded.Count);
        Assert.All(recorded, record => Assert.Equal(0, record["cost"]!["amount"]!.GetValue<decimal>()));
        return error;
    }

    /// <summary>
    /// A stream that breaks after <paramref name="words"/> words: that many words reach the client, then an error event (with
    /// <paramref name="code"/> if given) and no [DONE]; a record of what was streamed, and if <paramref name="outcome"/> is given,
    /// one bill for those words that ended that way. Returns the error event's error.
    /// </summary>
    public static async Task<JsonNode> BrokenStreamAsync(MulanHost host, HttpClient client, string model, int words, string? code = null,
        string? outcome = null)
    {
        using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model, stream = true, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("[DONE]", body);
        var events = body.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.StartsWith("data: ", StringComparison.Ordinal))
            .Select(line => JsonNode.Parse(line["data: ".Length..])!).ToList();
        var error = events[^1]["error"];
        Assert.NotNull(error);
        if (code is not null)
        {
            Assert.Equal(code, error["code"]!.GetValue<string>());
        }
        Assert.Equal(words, events.Count(e => e["choices"]?.AsArray().FirstOrDefault()?["delta"]?["content"]?.GetValue<string>() is { Length: > 0 }));
        var record = Assert.Single(await host.WaitForRecordsAsync(1));
        Assert.Equal("upstream_error", record["status"]!.GetValue<string>());
        Assert.Equal(words, record["outputTokens"]!.GetValue<int>());
        if (outcome is not null)
        {
            var bill = Assert.Single(host.Vendor.Ledger.Bills);
            Assert.Equal(outcome, bill.Outcome);
            Assert.Equal(words, bill.CompletionTokens);
        }
        return error;
    }
}
