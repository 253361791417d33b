using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Mulan.Assistant.Mcp;
using Mulan.Tests.Apps;
using Mulan.Tests.Support;

namespace Mulan.Tests.Assistant.Mcp;

/// <summary>
/// <c>/mcp</c> through the official MCP SDK's client over streamable HTTP, against a real server: tools per key,
/// search and ask as the /api gives them, apps through the gateway, refusals, and one workspace never reaching another.
/// </summary>
public sealed class McpServerTests : IAsyncLifetime
{
    private const string Policies = "員工每年享有十五天帶薪年假。年假須提前一週申請。\n\n加班須經主管事先批准。加班按一點五倍計薪。";

    private MulanHost _host = null!;
    private string _kb = null!;
    private string _otherKb = null!;
    private string _appId = null!;

    public async Task InitializeAsync()
    {
        _host = await AppTestKit.StartAsync();
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "other" })).EnsureSuccessStatusCode();
        _kb = await AppTestKit.KnowledgeBaseAsync(_host, "hr", Policies);
        _otherKb = await AppTestKit.KnowledgeBaseAsync(_host, "secret", "The launch code of the other workspace is 0000.", "other");
        _appId = await AppTestKit.PublishAsync(_host, new { slug = "hr", name = "HR 問答", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { "hr" } });
        await AppTestKit.PublishAsync(_host, new { slug = "helper", name = "Helper", kind = "assistant", model = "chat" });
        await AppTestKit.PublishAsync(_host, new { workspace = "other", slug = "rival", name = "Rival", kind = "knowledge-qa", knowledgeBases = new[] { "secret" } });
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<(string Id, string Key)> KeyAsync(object body)
    {
        using var response = await _host.Admin.PostAsJsonAsync("api/keys", body);
        response.EnsureSuccessStatusCode();
        var json = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return (json["id"]!.GetValue<string>(), json["key"]!.GetValue<string>());
    }

    /// <param name="protocolVersion">null: the SDK's latest revision (no handshake); an older one goes through initialize.</param>
    private Task<McpClient> ConnectAsync(string key, string? protocolVersion = null) =>
        McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(_host.BaseUrl, "mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + key },
        }), new McpClientOptions { ProtocolVersion = protocolVersion });

    private static async Task<CallToolResult> CallAsync(McpClient client, string tool, object? arguments = null) =>
        await client.CallToolAsync(tool, arguments is null ? null : JsonSerializer.SerializeToElement(arguments).Deserialize<Dictionary<string, object?>>());

    private static string Text(CallToolResult result) => string.Join("\n", result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private static JsonNode Structured(CallToolResult result) => JsonNode.Parse(result.StructuredContent!.Value.GetRawText())!;

    [Fact]
    public async Task Tools_are_listed_per_key_and_apps_only_when_the_key_may_use_them()
    {
        var (_, all) = await KeyAsync(new { name = "all" });
        var (_, chatOnly) = await KeyAsync(new { name = "chat-only", models = new[] { "chat-cite" } });
        var (_, other) = await KeyAsync(new { name = "other", workspace = "other" });

        await using (var client = await ConnectAsync(all))
        {
            var names = (await client.ListToolsAsync()).Select(t => t.Name).ToList();
            Assert.Equal(["knowledge_bases", "search", "ask", "app_helper", "app_hr"], names);
            var hr = (await client.ListToolsAsync()).Single(t => t.Name == "app_hr");
            Assert.Equal("HR 問答 (knowledge-qa app).", hr.Description);
            Assert.Equal(["message"], hr.ProtocolTool.InputSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
            Assert.Contains("hr", (await client.ListToolsAsync()).Single(t => t.Name == "search").Description);
            Assert.DoesNotContain("secret", string.Join(" ", (await client.ListToolsAsync()).Select(t => t.Description)));
        }
        await using (var client = await ConnectAsync(chatOnly))
        {
            Assert.Equal(["knowledge_bases", "search", "ask"], (await client.ListToolsAsync()).Select(t => t.Name));
        }
        await using (var client = await ConnectAsync(other))
        {
            var tools = await client.ListToolsAsync();
            Assert.Equal(["knowledge_bases", "search", "ask", "app_rival"], tools.Select(t => t.Name));
            Assert.Contains("secret", tools.Single(t => t.Name == "search").Description);
        }
    }

    [Theory]
    [InlineData("2025-06-18")]
    [InlineData("2025-11-25")]
    public async Task Clients_of_earlier_revisions_connect_through_the_initialize_handshake(string version)
    {
        var (_, key) = await KeyAsync(new { name = "older" });
        await using var client = await ConnectAsync(key, version);
        Assert.Equal(version, client.NegotiatedProtocolVersion);
        Assert.Equal("mulan", client.ServerInfo!.Name);
        var result = await CallAsync(client, "search", new { knowledge_base = "hr", query = "年假" });
        Assert.Contains("十五天", Text(result));
    }

    [Fact]
    public async Task Search_returns_the_passages_the_api_returns()
    {
        var (id, key) = await KeyAsync(new { name = "search" });
        await using var client = await ConnectAsync(key);

        var result = await CallAsync(client, "search", new { knowledge_base = "hr", query = "年假有幾天", top_k = 3 });
        Assert.NotEqual(true, result.IsError);
        Assert.Contains("十五天", Text(result));
        using var http = _host.Client(key);
        using var api = await http.PostAsJsonAsync($"api/knowledge-bases/{_kb}/search", new { query = "年假有幾天", topK = 3 });
        var expected = (await api.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(JsonNode.DeepEquals(expected["results"], Structured(result)["results"]), Structured(result).ToJsonString());

        // By id as well as by name; a search costs nothing.
        var byId = await CallAsync(client, "search", new { knowledge_base = _kb, query = "加班" });
        Assert.Contains("一點五倍", Text(byId));
        Assert.Empty(await _host.UsageRecordsAsync("&key=" + id));

        var listed = await CallAsync(client, "knowledge_bases");
        Assert.Equal([_kb], Structured(listed)["knowledgeBases"]!.AsArray().Select(k => k!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Ask_gives_a_grounded_answer_with_citations_metered_once_on_the_key()
    {
        var (id, key) = await KeyAsync(new { name = "ask" });
        await using var client = await ConnectAsync(key);

        var result = await CallAsync(client, "ask", new { knowledge_base = "hr", question = "年假有幾天？", model = "chat-cite" });
        Assert.NotEqual(true, result.IsError);
        var answer = Structured(result);
        Assert.True(answer["found"]!.GetValue<bool>());
        Assert.Equal("generative", answer["mode"]!.GetValue<string>());
        Assert.Contains("[1]", answer["answer"]!.GetValue<string>());
        Assert.Contains("十五天", answer["citations"]![0]!["text"]!.GetValue<string>());
        Assert.Contains("Sources:", Text(result));

        var records = await _host.WaitForRecordsAsync(1, "&key=" + id);
        var record = Assert.Single(records);
        Assert.Equal("chat-cite", record["model"]!.GetValue<string>());
        Assert.True(record["cost"]!["amount"]!.GetValue<decimal>() > 0);

        // Without a model: the extractive answer, free.
        var extractive = await CallAsync(client, "ask", new { knowledge_base = "hr", question = "加班怎麼計薪？" });
        Assert.Equal("extractive", Structured(extractive)["mode"]!.GetValue<string>());
        Assert.Single(await _host.UsageRecordsAsync("&key=" + id));
    }

    [Fact]
    public async Task An_app_tool_answers_through_the_gateway_and_its_usage_is_the_apps()
    {
        var (id, key) = await KeyAsync(new { name = "app", models = new[] { "app:hr" } });
        await using var client = await ConnectAsync(key);

        var first = await CallAsync(client, "app_hr", new { message = "年假有幾天？" });
        Assert.True(first.IsError != true, Text(first));
        var body = Structured(first);
        Assert.Contains("十五天", body["answer"]!.GetValue<string>());
        Assert.Equal("hr", body["citations"]![0]!["title"]!.GetValue<string>());
        var conversation = body["conversationId"]!.GetValue<string>();
        Assert.StartsWith("conv_", conversation);
        Assert.Contains("conversation_id: " + conversation, Text(first));

        var second = await CallAsync(client, "app_hr", new { message = "要提前多久申請？", conversation_id = conversation });
        Assert.True(second.IsError != true, Text(second));
        Assert.Equal(conversation, Structured(second)["conversationId"]!.GetValue<string>());

        // Each call: one app request on the key and the app, and the model call it made, which carries the cost.
        var records = await _host.WaitForRecordsAsync(4, $"&app={_appId}");
        Assert.Equal(2, records.Count(r => r["endpoint"]!.GetValue<string>() == "app.chat"));
        Assert.Equal(2, records.Count(r => r["endpoint"]!.GetValue<string>() == "chat.completions" && r["cost"]!["amount"]!.GetValue<decimal>() > 0));
        Assert.Equal(records.Count, (await _host.UsageRecordsAsync("&key=" + id)).Count);
    }

    [Fact]
    public async Task An_assistant_app_answers_through_a_run()
    {
        var (_, key) = await KeyAsync(new { name = "assistant" });
        await using var client = await ConnectAsync(key);
        var result = await CallAsync(client, "app_helper", new { message = "hi" });
        Assert.True(result.IsError != true, Text(result));
        var structured = Structured(result);
        Assert.Equal("succeeded", structured["runStatus"]!.GetValue<string>());
        Assert.StartsWith("run_", structured["runId"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer mk-not-a-key-0123456789")]
    [InlineData("Bearer " + MulanHost.AdminKey)]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task Without_a_live_virtual_key_mcp_is_401(string? authorization)
    {
        using var http = new HttpClient { BaseAddress = _host.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Post, "mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("invalid_api_key", JsonNode.Parse(text)!["error"]!["code"]!.GetValue<string>());
        Assert.DoesNotContain("mk-not-a-key", text);
        Assert.DoesNotContain(MulanHost.AdminKey, text);
    }

    [Fact]
    public async Task A_body_past_the_limit_is_refused_before_it_is_read()
    {
        var (_, key) = await KeyAsync(new { name = "large" });
        using var http = _host.Client(key);
        var huge = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"knowledge_base":"hr","query":" """
            + new string('x', (int)McpCaller.MaxRequestBodyBytes) + "\"}}}";
        using var content = new StringContent(huge, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("mcp", content);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_revoked_key_is_refused_at_once()
    {
        var (id, key) = await KeyAsync(new { name = "revoked" });
        await using var client = await ConnectAsync(key);
        Assert.NotEmpty(await client.ListToolsAsync());

        (await _host.Admin.DeleteAsync($"api/keys/{id}")).EnsureSuccessStatusCode();

        // Stateless: the next POST of the same client is authenticated again.
        var listing = await Assert.ThrowsAsync<HttpRequestException>(() => client.ListToolsAsync().AsTask());
        Assert.Equal(HttpStatusCode.Unauthorized, listing.StatusCode);
        var connecting = await Assert.ThrowsAsync<HttpRequestException>(() => ConnectAsync(key));
        Assert.Equal(HttpStatusCode.Unauthorized, connecting.StatusCode);
        using var http = _host.Client(key);
        using var response = await http.PostAsync("mcp", new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Another_workspaces_knowledge_base_looks_exactly_like_a_missing_one()
    {
        var (id, key) = await KeyAsync(new { name = "isolated" });
        await using var client = await ConnectAsync(key);

        foreach (var tool in new[] { "search", "ask" })
        {
            var args = (string kb) => tool == "search" ? (object)new { knowledge_base = kb, query = "launch code" } : new { knowledge_base = kb, question = "launch code?", model = "chat-cite" };
            var foreign = await CallAsync(client, tool, args(_otherKb));
            var byName = await CallAsync(client, tool, args("secret"));
            var missing = await CallAsync(client, tool, args("kb_doesnotexist"));
            Assert.True(foreign.IsError);
            Assert.True(byName.IsError);
            Assert.Equal(Text(missing).Replace("kb_doesnotexist", "X", StringComparison.Ordinal), Text(foreign).Replace(_otherKb, "X", StringComparison.Ordinal));
            Assert.Equal(Text(missing).Replace("kb_doesnotexist", "X", StringComparison.Ordinal), Text(byName).Replace("secret", "X", StringComparison.Ordinal));
            Assert.DoesNotContain("0000", Text(foreign));
        }
        // Nor can it reach the other workspace's app by its tool name.
        var app = await Assert.ThrowsAsync<McpProtocolException>(() => CallAsync(client, "app_rival", new { message = "hi" }));
        Assert.Equal(McpErrorCode.InvalidParams, app.ErrorCode);
        Assert.Empty(await _host.UsageRecordsAsync("&key=" + id));
        Assert.Empty(_host.Vendor.Requests);
    }

    [Fact]
    public async Task Invalid_arguments_are_tool_errors_and_nothing_is_charged()
    {
        var (id, key) = await KeyAsync(new { name = "invalid" });
        await using var client = await ConnectAsync(key);
        var cases = new (string Tool, object? Args, string Expected)[]
        {
            ("search", new { query = "年假" }, "'knowledge_base' is required"),
            ("search", new { knowledge_base = "hr" }, "'query' is required"),
            ("search", new { knowledge_base = "hr", query = "   " }, "'query' must be a non-empty string"),
            ("search", new { knowledge_base = "hr", query = 5 }, "'query' must be a non-empty string"),
            ("search", new { knowledge_base = "hr", query = new string('年', McpKnowledgeTools.MaxQueryLength + 1) }, "at most 4000 characters"),
            ("search", new { knowledge_base = "hr", query = "年假", top_k = 0 }, "'top_k' must be a whole number from 1 to 20"),
            ("search", new { knowledge_base = "hr", query = "年假", top_k = 21 }, "'top_k' must be a whole number from 1 to 20"),
            ("search", new { knowledge_base = "hr", query = "年假", top_k = 2.5 }, "'top_k'"),
            ("search", new { knowledge_base = "hr", query = "年假", top_k = "5" }, "'top_k'"),
            ("search", new { knowledge_base = "hr", query = "年假", mode = "vector" }, "Unknown argument 'mode'"),
            ("knowledge_bases", new { workspace = "other" }, "this tool takes no arguments"),
            ("ask", new { knowledge_base = "hr" }, "'question' is required"),
            ("ask", new { knowledge_base = "hr", question = "年假？", model = "no-such-model" }, "could not answer"),
            ("app_hr", new { }, "'message' is required"),
            ("app_hr", new { message = new string('x', 8001) }, "at most 8000 characters"),
            ("app_hr", new { message = "hi", conversation_id = "conv_unknown" }, "conversation_not_found"),
        };
        foreach (var (tool, args, expected) in cases)
        {
            var result = await CallAsync(client, tool, args);
            Assert.True(result.IsError == true, $"{tool} {JsonSerializer.Serialize(args)}: {Text(result)}");
            Assert.Contains(expected, Text(result));
        }
        var unknown = await Assert.ThrowsAsync<McpProtocolException>(() => CallAsync(client, "no_such_tool"));
        Assert.Equal(McpErrorCode.InvalidParams, unknown.ErrorCode);

        // Refusals the gateway made itself (an unknown model, an unknown conversation) are recorded, at no cost.
        Assert.All(await _host.UsageRecordsAsync("&key=" + id), r => Assert.Equal(0m, r["cost"]!["amount"]!.GetValue<decimal>()));
        Assert.Empty(_host.Vendor.Requests);
    }

    [Fact]
    public async Task Every_bad_top_k_is_a_tool_error_naming_it()
    {
        var (id, key) = await KeyAsync(new { name = "numbers" });
        await using var client = await ConnectAsync(key);
        foreach (var value in new[] { "0", "-1", "21", "1.5", "1e300", "99999999999", "\"5\"", "{}", "[1]", "true" })
        {
            var result = await client.CallToolAsync("search", new Dictionary<string, object?>
            {
                ["knowledge_base"] = "hr", ["query"] = "年假", ["top_k"] = JsonDocument.Parse(value).RootElement,
            });
            Assert.True(result.IsError == true, $"top_k={value}: {Text(result)}");
            Assert.Contains("'top_k' must be a whole number from 1 to 20", Text(result));
        }
        foreach (var edge in new[] { 1, 20 })
        {
            Assert.NotEqual(true, (await CallAsync(client, "search", new { knowledge_base = "hr", query = "年假", top_k = edge })).IsError);
        }
        Assert.Empty(await _host.UsageRecordsAsync("&key=" + id));
    }

    [Fact]
    public void App_tool_names_fit_the_mcp_pattern_and_stay_apart()
    {
        var pattern = new System.Text.RegularExpressions.Regex("^[A-Za-z0-9_-]{1,64}$");
        var long1 = new string('a', 64);
        var long2 = new string('a', 63) + "b";
        Assert.Equal("app_hr-bot", McpAppTools.ToolName("hr-bot"));
        Assert.Matches(pattern, McpAppTools.ToolName(long1));
        Assert.Matches(pattern, McpAppTools.ToolName("a.b c"));
        Assert.NotEqual(McpAppTools.ToolName(long1), McpAppTools.ToolName(long2));
    }
}
