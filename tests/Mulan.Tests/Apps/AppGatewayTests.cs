using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Chat;

namespace Mulan.Tests.Apps;

/// <summary>Published apps as <c>app:&lt;slug&gt;</c> on <c>/v1</c>, proven with the official OpenAI .NET SDK and raw HTTP.</summary>
public sealed class AppGatewayTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _kb = null!;
    private string _appId = null!;

    public async Task InitializeAsync()
    {
        _host = await AppTestKit.StartAsync();
        using var created = await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "hr" });
        _kb = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        foreach (var (title, text) in new[]
        {
            ("年假", "員工每年享有十五天帶薪年假。年假須提前一週申請。"),
            ("病假", "員工每年享有十天帶薪病假。病假超過兩天須經人事部批准，並提供醫生證明。"),
            ("加班", "加班須經主管事先批准。加班按一點五倍計薪。"),
        })
        {
            using var added = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{_kb}/documents", new { title, text });
            var doc = (await added.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
            await Knowledge.KnowledgeApiTests.WaitForDocumentAsync(_host.Admin, _kb, doc);
        }
        _appId = await AppTestKit.PublishAsync(_host, new
        {
            slug = "hr", name = "HR 問答", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { "hr" },
            instructions = "You are the HR assistant of {{company}}.", variables = new[] { new { name = "company", @default = "木蘭" } },
            retrieval = new { topK = 3 },
        });
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<(JsonObject Body, string RequestId)> AskAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("v1/chat/completions", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return (JsonNode.Parse(text)!.AsObject(), response.Headers.GetValues("x-mulan-request-id").Single());
    }

    [Fact]
    public async Task The_OpenAI_sdk_chats_with_an_app_and_the_citations_ride_along()
    {
        var key = await _host.CreateKeyAsync(new { name = "sdk", models = new[] { "app:hr" } });
        var client = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = _host.V1 }).GetChatClient("app:hr");

        var result = await client.CompleteChatAsync([new UserChatMessage("年假有幾天？")]);
        Assert.Contains("十五天", result.Value.Content[0].Text);
        Assert.EndsWith("[1]", result.Value.Content[0].Text);
        Assert.True(result.Value.Usage.InputTokenCount > 0);
        var raw = JsonNode.Parse(result.GetRawResponse().Content.ToString())!;
        Assert.Equal("年假", raw["citations"]![0]!["title"]!.GetValue<string>());
        Assert.StartsWith("conv_", raw["conversation_id"]!.GetValue<string>());

        // The streamed answer is the same; the SDK ignores the extras.
        var streamed = new StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("年假有幾天？")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }
        Assert.Equal(result.Value.Content[0].Text, streamed.ToString());

        // One record for each app request (no cost of its own) and one for each model call it made, which carries the cost.
        var records = await _host.UsageRecordsAsync($"&app={_appId}");
        var appRequests = records.Where(r => r["endpoint"]!.GetValue<string>() == "app.chat").ToList();
        var modelCalls = records.Where(r => r["endpoint"]!.GetValue<string>() == "chat.completions").ToList();
        Assert.Equal(2, appRequests.Count);
        Assert.Equal(2, modelCalls.Count);
        Assert.All(appRequests, r => Assert.Equal(0m, r["cost"]!["amount"]!.GetValue<decimal>()));
        Assert.All(modelCalls, r =>
        {
            Assert.Equal("chat-cite", r["model"]!.GetValue<string>());
            Assert.True(r["cost"]!["amount"]!.GetValue<decimal>() > 0);
            Assert.Equal(1, r["appVersion"]!.GetValue<int>());
            Assert.Contains(appRequests, a => a["requestId"]!.GetValue<string>() == r["parentRequestId"]!.GetValue<string>());
        });
    }

    [Fact]
    public async Task A_streamed_answer_ends_with_citations_and_the_conversation()
    {
        var key = await _host.CreateKeyAsync(new { name = "stream", models = new[] { "app:hr" } });
        using var client = _host.Client(key);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "app:hr", stream = true, messages = new[] { new { role = "user", content = "病假要什麼證明？" } } }),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.True(chunks.Count > 3, "streamed in several deltas");
        var text = string.Concat(chunks.Select(c => c["choices"]?[0]?["delta"]?["content"]?.GetValue<string>()));
        Assert.Contains("十天帶薪病假", text);
        var last = chunks[^1];
        Assert.Equal("病假", last["citations"]![0]!["title"]!.GetValue<string>());
        Assert.NotNull(last["conversation_id"]);
    }

    [Fact]
    public async Task A_follow_up_is_rewritten_into_a_standalone_query_with_the_conversation_kept_on_the_server()
    {
        var key = await _host.CreateKeyAsync(new { name = "turns" });
        using var client = _host.Client(key);
        var (first, _) = await AskAsync(client, new { model = "app:hr", user = "u-1", messages = new[] { new { role = "user", content = "加班怎麼計薪？" } } });
        Assert.Equal("加班", first["citations"]![0]!["title"]!.GetValue<string>());
        var conversation = first["conversation_id"]!.GetValue<string>();

        // Alone, "who approves it?" matches sick leave as well as overtime; the rewrite carries "overtime" over.
        var (second, _) = await AskAsync(client, new { model = "app:hr", user = "u-1", conversation_id = conversation, messages = new[] { new { role = "user", content = "那要誰批准呢？" } } });
        Assert.Equal(conversation, second["conversation_id"]!.GetValue<string>());
        Assert.Equal("加班", second["citations"]![0]!["title"]!.GetValue<string>());
        Assert.Contains("主管", second["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        var rewrite = _host.Vendor.Requests.Select(r => Encoding.UTF8.GetString(r.Body)).Single(b => b.Contains("Follow-up question", StringComparison.Ordinal));
        Assert.Contains("加班怎麼計薪", rewrite);

        // The stored conversation, for its end user only; another end user cannot continue it.
        var listed = await _host.Admin.GetFromJsonAsync<JsonObject>($"api/apps/{_appId}/conversations?user=u-1");
        Assert.Equal(conversation, listed!["conversations"]![0]!["id"]!.GetValue<string>());
        var read = await _host.Admin.GetFromJsonAsync<JsonObject>($"api/apps/{_appId}/conversations/{conversation}");
        Assert.Equal(4, read!["messages"]!.AsArray().Count);
        Assert.Equal(0, (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/apps/{_appId}/conversations?user=u-2"))!["count"]!.GetValue<int>());
        using var stolen = await client.PostAsJsonAsync("v1/chat/completions", new { model = "app:hr", user = "u-2", conversation_id = conversation, messages = new[] { new { role = "user", content = "還有呢？" } } });
        Assert.Equal(HttpStatusCode.NotFound, stolen.StatusCode);
        Assert.Contains("conversation_not_found", await stolen.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.NoContent, (await _host.Admin.DeleteAsync($"api/apps/{_appId}/conversations/{conversation}?user=u-1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.GetAsync($"api/apps/{_appId}/conversations/{conversation}")).StatusCode);
    }

    [Fact]
    public async Task Key_allowlists_cover_apps_and_models_lists_them()
    {
        var allowed = await _host.CreateKeyAsync(new { name = "app-only", models = new[] { "app:hr" } });
        var other = await _host.CreateKeyAsync(new { name = "chat-only", models = new[] { "chat" } });
        var listed = await _host.Client(allowed).GetFromJsonAsync<JsonObject>("v1/models");
        Assert.Equal(["app:hr"], listed!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()));
        Assert.DoesNotContain("app:hr", (await _host.Client(other).GetStringAsync("v1/models")));
        using var refused = await _host.Client(other).PostAsJsonAsync("v1/chat/completions", new { model = "app:hr", messages = new[] { new { role = "user", content = "年假？" } } });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("model_not_allowed", await refused.Content.ReadAsStringAsync());
        using var unknown = await _host.Client(allowed).PostAsJsonAsync("v1/chat/completions", new { model = "app:nope", messages = new[] { new { role = "user", content = "年假？" } } });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("model_not_found", await unknown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Feedback_on_an_answer_by_request_id_is_listed_and_exported()
    {
        var key = await _host.CreateKeyAsync(new { name = "fb" });
        using var client = _host.Client(key);
        var (_, requestId) = await AskAsync(client, new { model = "app:hr", user = "amy", messages = new[] { new { role = "user", content = "年假有幾天？" } } });
        using var given = await _host.Admin.PostAsJsonAsync("api/feedback", new { requestId, rating = "down", comment = "too short", correction = "十五天，須提前一週申請。" });
        Assert.Equal(HttpStatusCode.OK, given.StatusCode);
        var (_, second) = await AskAsync(client, new { model = "app:hr", messages = new[] { new { role = "user", content = "病假有幾天？" } } });
        using var onV1 = await client.PostAsJsonAsync("v1/feedback", new { requestId = second, rating = "up" });
        Assert.Equal(HttpStatusCode.OK, onV1.StatusCode);

        var listed = await _host.Admin.GetFromJsonAsync<JsonObject>("api/feedback?app=hr");
        var items = listed!["feedback"]!.AsArray();
        Assert.Equal(2, items.Count);
        var down = items.Single(i => i!["rating"]!.GetValue<string>() == "down")!;
        Assert.Equal("amy", down["user"]!.GetValue<string>());
        Assert.Equal("年假有幾天？", down["question"]!.GetValue<string>());
        var csv = await _host.Admin.GetStringAsync("api/feedback?app=hr&format=csv&rating=down");
        Assert.Contains("十五天，須提前一週申請。", csv);

        using var bad = await _host.Admin.PostAsJsonAsync("api/feedback", new { requestId, rating = "meh" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var missing = await client.PostAsJsonAsync("v1/feedback", new { requestId = "req_nope", rating = "up" });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_knowledge_base_or_route_a_published_app_uses_cannot_be_deleted()
    {
        using var kb = await _host.Admin.DeleteAsync($"api/knowledge-bases/{_kb}");
        Assert.Equal(HttpStatusCode.Conflict, kb.StatusCode);
        Assert.Contains("app hr", await kb.Content.ReadAsStringAsync());
        using var createdRoute = await _host.Admin.PostAsJsonAsync("api/models", new { name = "chat-extra", deployments = new[] { new { provider = "fake", model = "fake-chat+cite", price = new { currency = "USD", input = 1, output = 1 } } } });
        Assert.True(createdRoute.IsSuccessStatusCode, await createdRoute.Content.ReadAsStringAsync());
        await AppTestKit.PublishAsync(_host, new { slug = "extra", name = "Extra", kind = "knowledge-qa", model = "chat-extra", knowledgeBases = new[] { "hr" } });
        using var route = await _host.Admin.DeleteAsync("api/models/chat-extra");
        Assert.Equal(HttpStatusCode.Conflict, route.StatusCode);
        Assert.Contains("app extra", await route.Content.ReadAsStringAsync());
    }
}
