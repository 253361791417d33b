using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Chat;

namespace Mulan.Tests.Gateway.Routing;

/// <summary>Fallback from one vendor protocol to another, tools included, and from a connection reset.</summary>
public sealed class CrossVendorFallbackTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [
            { "name": "openai", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "claude", "kind": "anthropic", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" }
          ],
          "models": [
            { "name": "openai-then-claude", "deployments": [
              { "provider": "openai", "model": "fake-chat+tools", "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "claude", "model": "claude-fake+tools", "price": { "currency": "USD", "input": 3, "output": 15 } } ] },
            { "name": "claude-then-openai", "deployments": [
              { "provider": "claude", "model": "claude-fake+fail=529", "price": { "currency": "USD", "input": 3, "output": 15 } },
              { "provider": "openai", "model": "fake-chat+chunks=5", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "reset-first", "deployments": [
              { "provider": "openai", "model": "fake-chat+chunks=5", "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "claude", "model": "claude-fake+chunks=5", "price": { "currency": "USD", "input": 3, "output": 15 } } ] }
          ]
        }
        """;

    private MulanHost _host = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(Catalog, b => b.Configuration["Gateway:CooldownSeconds"] = "60");
        _key = await _host.CreateKeyAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Tools_fall_back_from_an_openai_vendor_to_anthropic_and_are_charged_once_at_anthropics_price()
    {
        var openai = new OpenAIClient(new ApiKeyCredential(_key), new OpenAIClientOptions { Endpoint = _host.V1, RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) });
        var tool = ChatTool.CreateFunctionTool("get_weather", "Weather for a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
        _host.Vendor.Enqueue(new FakeFault.Status(500));
        ChatCompletion completion = await openai.GetChatClient("openai-then-claude").CompleteChatAsync(
            [new SystemChatMessage("Use tools."), new UserChatMessage("Weather in Paris?")], new ChatCompletionOptions { Tools = { tool } });
        Assert.Equal(OpenAI.Chat.ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Equal("Paris", JsonDocument.Parse(completion.ToolCalls[0].FunctionArguments).RootElement.GetProperty("city").GetString());

        // The Anthropic deployment got the same conversation in its own shape: system on top, tools with input_schema.
        var sent = JsonNode.Parse(_host.Vendor.Requests.Single(r => r.Path == "/v1/messages").Body)!;
        Assert.Equal("Use tools.", sent["system"]!.GetValue<string>());
        Assert.Equal("get_weather", sent["tools"]![0]!["name"]!.GetValue<string>());
        Assert.Equal("object", sent["tools"]![0]!["input_schema"]!["type"]!.GetValue<string>());

        var record = Assert.Single(await _host.WaitForRecordsAsync(1));
        Assert.Equal("claude", record["provider"]!.GetValue<string>());
        Assert.Equal(2, record["attempts"]!.GetValue<int>());
        var bill = Assert.Single(_host.Vendor.Ledger.Bills, b => b.Outcome == BillOutcome.Completed);
        Assert.Equal((bill.PromptTokens * 3m + bill.CompletionTokens * 15m) / 1_000_000, record["cost"]!["amount"]!.GetValue<decimal>());
        Assert.Empty(record["unserved"]!.AsArray()); // an HTTP 500 is not billed
    }

    [Fact]
    public async Task An_overloaded_anthropic_stream_falls_back_to_openai_before_the_first_byte()
    {
        using var client = _host.Client(_key);
        using var response = await client.PostAsJsonAsync("v1/chat/completions",
            new { model = "claude-then-openai", stream = true, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("openai", response.Headers.GetValues("x-mulan-provider").Single());
        var body = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        Assert.Equal(5, body.Split('\n').Count(l => l.Contains("\"content\":\"", StringComparison.Ordinal) && !l.Contains("\"content\":\"\"", StringComparison.Ordinal)));
        var record = Assert.Single(await _host.WaitForRecordsAsync(1));
        Assert.Equal("openai", record["provider"]!.GetValue<string>());
        Assert.Equal("ok", record["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_connection_reset_falls_back_and_the_reset_attempt_is_listed_as_possibly_billed()
    {
        using var client = _host.Client(_key);
        _host.Vendor.Enqueue(new FakeFault.ResetAfter(0));
        using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "reset-first", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("claude", response.Headers.GetValues("x-mulan-provider").Single());
        var record = Assert.Single(await _host.WaitForRecordsAsync(1));
        var unserved = Assert.Single(record["unserved"]!.AsArray())!;
        Assert.Equal("openai", unserved["provider"]!.GetValue<string>());
        Assert.Equal("connection lost", unserved["reason"]!.GetValue<string>());
        // The vendor billed the prompt of the reset request: Mulan lists the same count, and charges only the answer.
        var reset = Assert.Single(_host.Vendor.Ledger.Bills, b => b.Outcome == BillOutcome.Reset);
        Assert.Equal(reset.PromptTokens, unserved["inputTokens"]!.GetValue<int>());
        var served = Assert.Single(_host.Vendor.Ledger.Bills, b => b.Outcome == BillOutcome.Completed);
        Assert.Equal((served.PromptTokens * 3m + served.CompletionTokens * 15m) / 1_000_000, record["cost"]!["amount"]!.GetValue<decimal>());
    }
}
