using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Console.Chat;

/// <summary>The chat page's API: streaming through the gateway on the console key, share links, history, feedback, passages.</summary>
public sealed class ChatApiTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _refunds = null!;
    private string _other = null!;

    public async Task InitializeAsync()
    {
        _host = await ChatTestKit.StartAsync(b =>
        {
            b.Configuration["ChatPage:ShareRequestsPerMinute"] = "3";
            b.Configuration["ChatPage:WidgetOrigins:0"] = "https://intranet.example";
        });
        _refunds = await ChatTestKit.PublishQaAsync(_host, "refunds", ChatTestKit.Refunds);
        _other = await ChatTestKit.PublishQaAsync(_host, "payroll", "Salaries are paid on the last working day of the month. Bonuses come in March.");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<HttpClient> ShareClientAsync(string appId) =>
        ChatTestKit.Bearer(_host, (await ChatTestKit.ShareAsync(_host, appId))["token"]!.GetValue<string>());

    [Fact]
    public async Task A_message_streams_the_answer_in_order_and_ends_with_citations_and_the_conversation()
    {
        using var client = await ShareClientAsync(_refunds);
        var events = await ChatTestKit.SendAsync(client, "refunds", new { message = "How long do refunds take?" });

        var deltas = events.Where(e => e.Name == "delta").ToList();
        Assert.True(deltas.Count >= 10, $"{deltas.Count} deltas");
        // The fake answers with the first sentence of source 1, three characters a delta: in order, nothing lost.
        Assert.Equal("Refunds are paid within five working days of the return.\u00A0[1]", ChatTestKit.Answer(events));
        // Relayed as they came (30 ms apart at the vendor), not buffered to the end.
        Assert.True(deltas[^1].At - deltas[0].At > TimeSpan.FromMilliseconds(200), $"{(deltas[^1].At - deltas[0].At).TotalMilliseconds} ms");
        var done = Assert.Single(events, e => e.Name == "done");
        Assert.Same(done, events[^1]);
        Assert.StartsWith("conv_", done.Data["conversationId"]!.GetValue<string>());
        Assert.StartsWith("req_", done.Data["requestId"]!.GetValue<string>());
        var citation = Assert.Single(done.Data["citations"]!.AsArray())!.AsObject();
        Assert.Equal(1, citation["marker"]!.GetValue<int>());
        Assert.Equal("refunds-kb", citation["title"]!.GetValue<string>());
        Assert.Null(citation["text"]);
        Assert.True(citation["passageId"]!.GetValue<long>() > 0);
    }

    [Fact]
    public async Task The_model_calls_are_metered_on_the_console_key_with_the_chatting_user()
    {
        var share = await ChatTestKit.ShareAsync(_host, _refunds);
        using var client = ChatTestKit.Bearer(_host, share["token"]!.GetValue<string>());
        await ChatTestKit.SendAsync(client, "refunds", new { message = "How long do refunds take?" });

        var user = "share:" + share["id"]!.GetValue<string>();
        var records = (await _host.WaitForRecordsAsync(2, "&app=" + _refunds)).Where(r => r["user"]?.GetValue<string>() == user).ToList();
        var app = Assert.Single(records, r => r["endpoint"]!.GetValue<string>() == "app.chat");
        var call = Assert.Single(records, r => r["model"]!.GetValue<string>() == "chat-cite-slow");
        foreach (var r in new[] { app, call })
        {
            Assert.StartsWith("service-console-", r["key"]!.GetValue<string>());
            Assert.Equal("ok", r["status"]!.GetValue<string>());
        }
        Assert.True(call["outputTokens"]!.GetValue<long>() > 0);
        Assert.Equal(app["requestId"]!.GetValue<string>(), call["parentRequestId"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_page_header_names_the_app_and_keeps_its_instructions_secret()
    {
        using var client = await ShareClientAsync(_refunds);
        var text = await client.GetStringAsync("api/chat/refunds");
        var app = JsonNode.Parse(text)!.AsObject();
        Assert.Equal("Help for refunds", app["name"]!.GetValue<string>());
        Assert.Equal("knowledge-qa", app["kind"]!.GetValue<string>());
        Assert.Equal("Hello! Ask me about refunds.", app["greeting"]!.GetValue<string>());
        Assert.Equal("How long do refunds take?", app["suggested"]![0]!.GetValue<string>());
        Assert.DoesNotContain("SECRET-INSTRUCTIONS", text);
        Assert.DoesNotContain("chat-cite-slow", text);
    }

    [Fact]
    public async Task A_share_token_works_only_for_its_app_and_is_refused_everywhere_else()
    {
        var token = (await ChatTestKit.ShareAsync(_host, _refunds))["token"]!.GetValue<string>();
        using var client = ChatTestKit.Bearer(_host, token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/chat/refunds")).StatusCode);

        foreach (var (method, path) in new[]
        {
            ("GET", "api/chat/payroll"), ("POST", "api/chat/payroll/messages"), ("GET", "api/chat/payroll/conversations"), ("GET", "api/apps"),
            ("GET", $"api/apps/{_refunds}"), ("GET", $"api/apps/{_refunds}/shares"), ("POST", $"api/apps/{_refunds}/shares"), ("GET", "api/feedback"),
            ("POST", "v1/chat/completions"), ("GET", "v1/models"), ("GET", "api/knowledge-bases"), ("GET", "api/usage"),
        })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method == "POST")
            {
                request.Content = JsonContent.Create(new { message = "hi", model = "app:refunds", messages = new[] { new { role = "user", content = "hi" } } });
            }
            using var response = await client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {(int)response.StatusCode}");
        }
        Assert.Empty(await _host.UsageRecordsAsync("&app=" + _other));
    }

    [Fact]
    public async Task A_revoked_share_is_401_and_listed_as_revoked_without_its_token()
    {
        var share = await ChatTestKit.ShareAsync(_host, _refunds, new { name = "kiosk", expiresInDays = 7 });
        var token = share["token"]!.GetValue<string>();
        Assert.StartsWith("msh-", token);
        Assert.Equal($"/chat/refunds#share={token}", share["url"]!.GetValue<string>());
        using var client = ChatTestKit.Bearer(_host, token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/chat/refunds")).StatusCode);

        using var revoked = await _host.Admin.DeleteAsync($"api/apps/{_refunds}/shares/{share["id"]}");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/chat/refunds")).StatusCode);
        using var again = await client.PostAsJsonAsync("api/chat/refunds/messages", new { message = "How long do refunds take?" });
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);

        var list = await _host.Admin.GetStringAsync($"api/apps/{_refunds}/shares");
        Assert.DoesNotContain(token, list);
        var listed = JsonNode.Parse(list)!["shares"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == share["id"]!.GetValue<string>())!;
        Assert.Equal("kiosk", listed["name"]!.GetValue<string>());
        Assert.NotNull(listed["revokedAt"]);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.DeleteAsync($"api/apps/{_refunds}/shares/{share["id"]}")).StatusCode);
        Assert.DoesNotContain(token, _host.Logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_belongs_to_the_share_that_chatted()
    {
        using var alice = await ShareClientAsync(_refunds);
        using var bob = await ShareClientAsync(_refunds);
        var done = (await ChatTestKit.SendAsync(alice, "refunds", new { message = "How long do refunds take?" })).Single(e => e.Name == "done");
        var conversation = done.Data["conversationId"]!.GetValue<string>();
        await ChatTestKit.SendAsync(alice, "refunds", new { message = "And store credit?", conversationId = conversation });

        var mine = await alice.GetFromJsonAsync<JsonObject>("api/chat/refunds/conversations");
        var item = Assert.Single(mine!["conversations"]!.AsArray())!;
        Assert.Equal(conversation, item["id"]!.GetValue<string>());
        Assert.Equal("How long do refunds take?", item["title"]!.GetValue<string>());
        var messages = (await alice.GetFromJsonAsync<JsonObject>($"api/chat/refunds/conversations/{conversation}"))!["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "user", "assistant"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal(done.Data["requestId"]!.GetValue<string>(), messages[1]!["requestId"]!.GetValue<string>());

        Assert.Empty((await bob.GetFromJsonAsync<JsonObject>("api/chat/refunds/conversations"))!["conversations"]!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"api/chat/refunds/conversations/{conversation}")).StatusCode);
        using var hijack = await bob.PostAsJsonAsync("api/chat/refunds/messages", new { message = "What did they ask?", conversationId = conversation });
        Assert.Equal(HttpStatusCode.NotFound, hijack.StatusCode);
    }

    [Fact]
    public async Task Feedback_is_stored_for_the_callers_own_answer_only()
    {
        var share = await ChatTestKit.ShareAsync(_host, _refunds);
        using var alice = ChatTestKit.Bearer(_host, share["token"]!.GetValue<string>());
        using var bob = await ShareClientAsync(_refunds);
        var requestId = (await ChatTestKit.SendAsync(alice, "refunds", new { message = "How long do refunds take?" })).Single(e => e.Name == "done").Data["requestId"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.NotFound, (await bob.PostAsJsonAsync("api/chat/refunds/feedback", new { requestId, rating = "down" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await alice.PostAsJsonAsync("api/chat/refunds/feedback", new { requestId, rating = "meh" })).StatusCode);
        using var given = await alice.PostAsJsonAsync("api/chat/refunds/feedback", new { requestId, rating = "up", comment = "clear" });
        Assert.Equal(HttpStatusCode.OK, given.StatusCode);

        var stored = Assert.Single((await _host.Admin.GetFromJsonAsync<JsonObject>($"api/feedback?app={_refunds}"))!["feedback"]!.AsArray())!;
        Assert.Equal(requestId, stored["requestId"]!.GetValue<string>());
        Assert.Equal("up", stored["rating"]!.GetValue<string>());
        Assert.Equal("share:" + share["id"]!.GetValue<string>(), stored["user"]!.GetValue<string>());
        Assert.Equal("How long do refunds take?", stored["question"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_cited_passage_opens_only_from_the_apps_own_knowledge_bases()
    {
        using var refunds = await ShareClientAsync(_refunds);
        using var payroll = await ShareClientAsync(_other);
        var mine = (await ChatTestKit.SendAsync(refunds, "refunds", new { message = "How long do refunds take?" })).Single(e => e.Name == "done")
            .Data["citations"]![0]!["passageId"]!.GetValue<long>();
        var theirs = (await ChatTestKit.SendAsync(payroll, "payroll", new { message = "When are salaries paid?" })).Single(e => e.Name == "done")
            .Data["citations"]![0]!["passageId"]!.GetValue<long>();

        var passage = await refunds.GetFromJsonAsync<JsonObject>($"api/chat/refunds/passages/{mine}");
        Assert.Equal("refunds-kb", passage!["title"]!.GetValue<string>());
        Assert.Contains("Store credit is issued at once.", passage["text"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await refunds.GetAsync($"api/chat/refunds/passages/{theirs}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await refunds.GetAsync("api/chat/refunds/passages/999999")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await refunds.GetAsync("api/chat/refunds/passages/abc")).StatusCode);
    }

    [Fact]
    public async Task Bad_input_is_a_clear_4xx_and_nothing_is_recorded()
    {
        using var client = await ShareClientAsync(_refunds);
        var before = (await _host.UsageRecordsAsync()).Count;
        async Task<HttpStatusCode> Post(string body)
        {
            using var response = await client.PostAsync("api/chat/refunds/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("application/problem+json", response.Content.Headers.ContentType?.ToString());
            Assert.DoesNotContain("msh-", text);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.BadRequest, await Post("""{"message": ""}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await Post("""{"message": "   "}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await Post("""{"message": 5}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await Post($$"""{"message": "{{new string('x', 4001)}}"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await Post("""{"message": "hi", "model": "chat"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await Post("""{"message": "hi", "conversationId": 7}"""));
        Assert.Equal(HttpStatusCode.BadRequest, await Post("""{"message": "hi" """));
        Assert.Equal(HttpStatusCode.BadRequest, await Post("[1]"));
        Assert.Equal(HttpStatusCode.Forbidden, await Post("""{"message": "hi", "version": 1}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await Post($$"""{"message": "{{new string('x', 70_000)}}"}"""));
        using var unknown = await _host.Admin.PostAsJsonAsync("api/chat/nope/messages", new { message = "hi" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.Admin.PostAsJsonAsync($"api/apps/{_refunds}/shares", new { expiresInDays = 0 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.Admin.PostAsJsonAsync($"api/apps/{_refunds}/shares", new { name = "x", token = "mine" })).StatusCode);

        Assert.Equal(before, (await _host.UsageRecordsAsync()).Count);
        Assert.Empty((await client.GetFromJsonAsync<JsonObject>("api/chat/refunds/conversations"))!["conversations"]!.AsArray());
    }

    [Fact]
    public async Task A_share_link_past_its_rate_gets_429()
    {
        using var client = await ShareClientAsync(_refunds);
        // Three a minute, counted in fixed one-minute windows: a slow run may cross into the next window once, so at most
        // six pass before the 429 (two windows' worth), never more.
        HttpResponseMessage? refused = null;
        var passed = 0;
        for (var i = 0; i < 7 && refused is null; i++)
        {
            var response = await client.PostAsJsonAsync("api/chat/refunds/messages", new { message = "How long do refunds take?" });
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
                break;
            }
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsStringAsync();
            response.Dispose();
            passed++;
        }
        Assert.NotNull(refused);
        Assert.InRange(passed, 3, 6);
        Assert.True(refused!.Headers.RetryAfter is not null);
        refused.Dispose();
    }

    [Fact]
    public async Task An_administrator_tries_an_unpublished_version_and_others_cannot()
    {
        var id = await ChatTestKit.PublishQaAsync(_host, "draft", "Drafts are kept for thirty days. Nothing else.");
        using var changed = await _host.Admin.PutAsJsonAsync($"api/apps/{id}", new
        {
            slug = "draft", name = "Draft v2", kind = "knowledge-qa", model = "chat-cite-slow", knowledgeBases = new[] { "draft-kb" },
        });
        Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());

        Assert.Equal("Help for draft", (await _host.Admin.GetFromJsonAsync<JsonObject>("api/chat/draft"))!["name"]!.GetValue<string>());
        Assert.Equal("Draft v2", (await _host.Admin.GetFromJsonAsync<JsonObject>("api/chat/draft?version=2"))!["name"]!.GetValue<string>());
        var done = (await ChatTestKit.SendAsync(_host.Admin, "draft", new { message = "How long are drafts kept?", version = 2 })).Single(e => e.Name == "done");
        Assert.Equal(2, done.Data["appVersion"]!.GetValue<int>());
        var record = Assert.Single(await _host.WaitForRecordsAsync(2, "&app=" + id), r => r["endpoint"]!.GetValue<string>() == "app.chat");
        Assert.Equal(2, record["appVersion"]!.GetValue<int>());
        Assert.Equal("admin", record["user"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.GetAsync("api/chat/draft?version=9")).StatusCode);
    }

    [Fact]
    public async Task The_page_is_a_shell_with_a_strict_policy_and_only_embeds_for_the_widget_origins()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.BaseUrl };
        using var page = await anonymous.GetAsync("chat/refunds");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("Help for refunds", html);
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());

        using var embed = await anonymous.GetAsync("chat/refunds?embed=1");
        Assert.Contains("frame-ancestors 'self' https://intranet.example", embed.Headers.GetValues("Content-Security-Policy").Single());
        Assert.False(embed.Headers.Contains("X-Frame-Options"));

        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("chat/nope")).StatusCode);
        using var widget = await anonymous.GetAsync("widget.js");
        Assert.Equal(HttpStatusCode.OK, widget.StatusCode);
        Assert.StartsWith("text/javascript", widget.Content.Headers.ContentType!.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/chat/refunds")).StatusCode);
    }
}
