using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Apps;

/// <summary>Definitions, versions, publishing and rollback; errors by JSON path; workspaces kept apart.</summary>
public sealed class AppLifecycleTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await AppTestKit.StartAsync();
        await AppTestKit.KnowledgeBaseAsync(_host, "handbook", "# 年假\n\n员工每年享有十五天带薪年假。年假须提前一周申请。");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static object Definition(string instructions, string? language = null, string? model = "chat-cite") => new
    {
        slug = "hb", name = "Handbook", kind = "knowledge-qa", model, knowledgeBases = new[] { "handbook" }, instructions,
        answer = language is null ? null : new { language },
    };

    private async Task<JsonObject> AskAsync(string key, string question)
    {
        using var response = await _host.Client(key).PostAsJsonAsync("v1/chat/completions", new { model = "app:hb", messages = new[] { new { role = "user", content = question } } });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public async Task Every_change_is_a_version_one_is_published_and_any_can_be_published_again()
    {
        var key = await _host.CreateKeyAsync(new { name = "v" });
        using var created = await _host.Admin.PostAsJsonAsync("api/apps", Definition("Be brief."));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        // Not published yet: not a model.
        using var early = await _host.Client(key).PostAsJsonAsync("v1/chat/completions", new { model = "app:hb", messages = new[] { new { role = "user", content = "年假？" } } });
        Assert.Equal(HttpStatusCode.NotFound, early.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await _host.Admin.PostAsJsonAsync($"api/apps/{id}/publish", new { })).StatusCode);
        Assert.Equal(1, (await AskAsync(key, "年假有几天？"))["app_version"]!.GetValue<int>());

        using var changed = await _host.Admin.PutAsJsonAsync($"api/apps/{id}", new
        {
            slug = "hb", name = "Handbook", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { "handbook" },
            instructions = "Be thorough.", answer = new { language = "zh-Hant" }, note = "Traditional answers",
        });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal(2, (await changed.Content.ReadFromJsonAsync<JsonObject>())!["version"]!.GetValue<int>());
        // A new version is not served until it is published.
        Assert.Equal(1, (await AskAsync(key, "年假有几天？"))["app_version"]!.GetValue<int>());

        var diff = await _host.Admin.GetFromJsonAsync<JsonObject>($"api/apps/{id}/diff?from=1&to=2");
        var paths = diff!["changes"]!.AsArray().Select(c => c!["path"]!.GetValue<string>()).ToList();
        Assert.Equal(["$.instructions", "$.answer"], paths);

        Assert.Equal(HttpStatusCode.OK, (await _host.Admin.PostAsJsonAsync("api/apps/hb/publish", new { version = 2 })).StatusCode);
        var traditional = await AskAsync(key, "年假有几天？");
        Assert.Equal(2, traditional["app_version"]!.GetValue<int>());
        // The knowledge base is Simplified; the app answers in Traditional.
        Assert.Contains("員工每年享有十五天帶薪年假", traditional["choices"]![0]!["message"]!["content"]!.GetValue<string>());

        using var rollback = await _host.Admin.PostAsJsonAsync($"api/apps/{id}/rollback", new { version = 1 });
        Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
        var back = await AskAsync(key, "年假有几天？");
        Assert.Equal(1, back["app_version"]!.GetValue<int>());
        Assert.Contains("员工每年享有十五天带薪年假", back["choices"]![0]!["message"]!["content"]!.GetValue<string>());

        var versions = await _host.Admin.GetFromJsonAsync<JsonObject>($"api/apps/{id}/versions");
        Assert.Equal([true, false], versions!["versions"]!.AsArray().Select(v => v!["published"]!.GetValue<bool>()));
        var audit = await _host.Admin.GetStringAsync("api/audit?pageSize=100");
        foreach (var action in new[] { "app.created", "app.updated", "app.published", "app.rolled_back" })
        {
            Assert.Contains(action, audit);
        }
        // Usage names the version that answered.
        var records = await _host.UsageRecordsAsync($"&app={id}");
        Assert.Contains(records, r => r["appVersion"]?.GetValue<int>() == 2);
        Assert.Contains(records, r => r["appVersion"]?.GetValue<int>() == 1);
    }

    [Fact]
    public async Task A_bad_definition_is_refused_with_json_paths_and_nothing_is_created()
    {
        using var response = await _host.Admin.PostAsJsonAsync("api/apps", new
        {
            slug = "Bad Slug", name = "", kind = "knowledge-qa", knowledgeBases = new[] { "handbook", "" },
            retrieval = new { topK = 500, mode = "fuzzy" }, answer = new { language = "fr" }, instructions = "Hi {{who}}",
            suggestedQuestions = new[] { "ok", new string('x', 400) },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        foreach (var path in new[] { "$.slug", "$.name", "$.knowledgeBases[1]", "$.retrieval.topK", "$.retrieval.mode", "$.answer.language", "$.instructions", "$.suggestedQuestions[1]" })
        {
            Assert.True(errors.ContainsKey(path), $"{path} missing from {errors.ToJsonString()}");
        }
        using var unknown = await _host.Admin.PostAsJsonAsync("api/apps", new { slug = "x", name = "X", kind = "knowledge-qa", knowledgeBases = new[] { "handbook" }, retreival = new { } });
        Assert.Contains("$.retreival", await unknown.Content.ReadAsStringAsync());
        using var copywriter = await _host.Admin.PostAsJsonAsync("api/apps", new { slug = "x", name = "X", kind = "copywriter" });
        Assert.Contains("$.model", await copywriter.Content.ReadAsStringAsync());
        Assert.Equal("""{"apps":[]}""", await _host.Admin.GetStringAsync("api/apps"));
    }

    [Fact]
    public async Task An_app_cannot_name_another_workspaces_knowledge_base_or_be_reached_from_it()
    {
        using var ws = await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "other" });
        ws.EnsureSuccessStatusCode();
        using var foreign = await _host.Admin.PostAsJsonAsync("api/apps", new { workspace = "other", slug = "hb", name = "X", kind = "knowledge-qa", knowledgeBases = new[] { "handbook" } });
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Contains("$.knowledgeBases[0]", await foreign.Content.ReadAsStringAsync());
        using var route = await _host.Admin.PostAsJsonAsync("api/apps", new { slug = "hb", name = "X", kind = "knowledge-qa", model = "no-such-route", knowledgeBases = new[] { "handbook" } });
        Assert.Equal(HttpStatusCode.NotFound, route.StatusCode);
        Assert.Contains("$.model", await route.Content.ReadAsStringAsync());

        var id = await AppTestKit.PublishAsync(_host, Definition("Be brief."));
        var otherKey = await _host.CreateKeyAsync(new { name = "o", workspace = "other" });
        using var asked = await _host.Client(otherKey).PostAsJsonAsync("v1/chat/completions", new { model = "app:hb", messages = new[] { new { role = "user", content = "年假？" } } });
        Assert.Equal(HttpStatusCode.NotFound, asked.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Client(otherKey).GetAsync($"api/apps/{id}")).StatusCode);
        Assert.DoesNotContain("app:hb", await _host.Client(otherKey).GetStringAsync("v1/models"));
        Assert.Equal(HttpStatusCode.Forbidden, (await _host.Client(otherKey).PostAsJsonAsync("api/apps", Definition("x"))).StatusCode);
    }

    [Fact]
    public async Task Without_a_chat_model_an_app_answers_extractively_with_citations_and_refuses_what_is_not_there()
    {
        await AppTestKit.PublishAsync(_host, Definition("", model: null));
        var key = await _host.CreateKeyAsync(new { name = "offline" });
        var answer = await AskAsync(key, "年假有几天？");
        Assert.True(answer["found"]!.GetValue<bool>());
        Assert.Contains("十五天", answer["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("年假", answer["citations"]![0]!["title"]!.GetValue<string>());
        var refused = await AskAsync(key, "公司的股票代码是什么？");
        Assert.False(refused["found"]!.GetValue<bool>());
        Assert.Empty(refused["citations"]!.AsArray());
        Assert.Empty(_host.Vendor.Requests);
    }

    [Fact]
    public async Task An_apps_end_user_rate_limit_and_budget_hold()
    {
        await AppTestKit.PublishAsync(_host, new
        {
            slug = "hb", name = "Handbook", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { "handbook" },
            limits = new { endUserRpm = 2 }, budget = new { amount = 0.0000001m, currency = "USD", period = "day" },
        });
        var key = await _host.CreateKeyAsync(new { name = "limits" });
        using var client = _host.Client(key);
        // The budget admits no model call at all: the app's own budget refuses it, like a key's.
        using var first = await client.PostAsJsonAsync("v1/chat/completions", new { model = "app:hb", user = "a", messages = new[] { new { role = "user", content = "年假有几天？" } } });
        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.Contains("budget_exceeded", await first.Content.ReadAsStringAsync());
        using var second = await client.PostAsJsonAsync("v1/chat/completions", new { model = "app:hb", user = "a", messages = new[] { new { role = "user", content = "年假有几天？" } } });
        using var third = await client.PostAsJsonAsync("v1/chat/completions", new { model = "app:hb", user = "a", messages = new[] { new { role = "user", content = "年假有几天？" } } });
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Contains("end user", await third.Content.ReadAsStringAsync());
        Assert.NotNull(third.Headers.RetryAfter);
        // Another end user has its own minute.
        using var other = await client.PostAsJsonAsync("v1/chat/completions", new { model = "app:hb", user = "b", messages = new[] { new { role = "user", content = "年假有几天？" } } });
        Assert.Contains("budget_exceeded", await other.Content.ReadAsStringAsync());
        Assert.Empty(_host.Vendor.Requests);
    }

    [Fact]
    public async Task Banned_terms_are_masked_in_streams_even_across_deltas_and_answers_stop_at_the_maximum_length()
    {
        await AppTestKit.PublishAsync(_host, new
        {
            slug = "hb", name = "Handbook", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { "handbook" },
            guardrails = new { bannedTerms = new[] { "带薪年假" } },
        });
        await AppTestKit.PublishAsync(_host, new
        {
            slug = "short", name = "Short", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { "handbook" },
            guardrails = new { maxAnswerCharacters = 6 },
        });
        var key = await _host.CreateKeyAsync(new { name = "guard" });
        // The fake streams three characters a delta, so the banned term arrives split.
        var masked = await StreamAsync(key, "hb");
        Assert.Contains("十五天＊＊＊＊", masked.Text);
        Assert.DoesNotContain("带薪", masked.Text);
        var whole = await AskAsync(key, "年假有几天？");
        Assert.Contains("＊＊＊＊", whole["choices"]![0]!["message"]!["content"]!.GetValue<string>());

        var cut = await StreamAsync(key, "short");
        Assert.Equal("员工每年享有", cut.Text);
        Assert.Equal("length", cut.Finish);
    }

    [Fact]
    public async Task Deleting_a_workspace_takes_its_apps_along_only_when_forced()
    {
        using var ws = await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "team" });
        ws.EnsureSuccessStatusCode();
        await AppTestKit.KnowledgeBaseAsync(_host, "team-kb", "团队手册。", "team");
        var id = await AppTestKit.PublishAsync(_host, new { workspace = "team", slug = "t", name = "T", kind = "knowledge-qa", knowledgeBases = new[] { "team-kb" } });
        using var refused = await _host.Admin.DeleteAsync("api/workspaces/team");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("1 app", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await _host.Admin.GetAsync($"api/apps/{id}")).StatusCode);
        using var forced = await _host.Admin.DeleteAsync("api/workspaces/team?force=true");
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.GetAsync($"api/apps/{id}")).StatusCode);
        Assert.Contains("app.deleted", await _host.Admin.GetStringAsync("api/audit?pageSize=100"));
    }

    [Fact]
    public async Task What_end_users_type_meets_the_apps_pii_rules_and_history_is_trimmed_to_its_token_budget()
    {
        await AppTestKit.PublishAsync(_host, new
        {
            slug = "hb", name = "Handbook", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { "handbook" },
            guardrails = new { pii = new[] { new { kind = "china_mobile", action = "block" }, new { kind = "email", action = "mask" } } },
            conversation = new { historyTokens = 40 },
        });
        var key = await _host.CreateKeyAsync(new { name = "pii" });
        using var client = _host.Client(key);
        using var blocked = await client.PostAsJsonAsync("v1/chat/completions", new { model = "app:hb", messages = new[] { new { role = "user", content = "我的手机是13812345678，年假有几天？" } } });
        Assert.Equal(HttpStatusCode.BadRequest, blocked.StatusCode);
        Assert.Contains("pii_blocked", await blocked.Content.ReadAsStringAsync());
        Assert.Empty(_host.Vendor.Requests);

        var masked = await AskAsync(key, "请回复 amy@example.com：年假有几天？");
        var conversation = masked["conversation_id"]!.GetValue<string>();
        var stored = await _host.Admin.GetStringAsync($"api/apps/hb/conversations/{conversation}");
        Assert.DoesNotContain("amy@example.com", stored);
        Assert.All(_host.Vendor.Requests, r => Assert.DoesNotContain("amy@example.com", System.Text.Encoding.UTF8.GetString(r.Body)));

        // Six earlier turns sent along; only the newest that fit in 40 tokens reach the model.
        var history = Enumerable.Range(1, 6).SelectMany(i => new object[]
        {
            new { role = "user", content = $"第{i}个问题：关于年假的一些很长很长的说明文字，用来占用更多的词元。" },
            new { role = "assistant", content = $"第{i}个回答：好的。" },
        }).Append(new { role = "user", content = "年假须提前多久申请？" }).ToArray();
        using var trimmed = await client.PostAsJsonAsync("v1/chat/completions", new { model = "app:hb", messages = history });
        Assert.Equal(HttpStatusCode.OK, trimmed.StatusCode);
        var sent = System.Text.Json.Nodes.JsonNode.Parse(_host.Vendor.Requests[^1].Body)!["messages"]!.AsArray();
        var sentHistory = sent.Skip(1).SkipLast(1).Select(m => m!["content"]!.GetValue<string>()).ToList();
        Assert.InRange(sentHistory.Count, 1, 3);
        Assert.Equal("第6个回答：好的。", sentHistory[^1]);
    }

    [Fact]
    public async Task The_callers_own_key_limits_apply_to_the_apps_model_calls_with_their_retry_after()
    {
        await AppTestKit.PublishAsync(_host, Definition("Be brief."));
        var key = await _host.CreateKeyAsync(new { name = "one-a-minute", rpm = 1 });
        Assert.Contains("十五天", (await AskAsync(key, "年假有几天？"))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        using var second = await _host.Client(key).PostAsJsonAsync("v1/chat/completions", new { model = "app:hb", messages = new[] { new { role = "user", content = "年假有几天？" } } });
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains("rate_limit_exceeded", await second.Content.ReadAsStringAsync());
        Assert.NotNull(second.Headers.RetryAfter);
        Assert.Single(_host.Vendor.Requests);
    }

    private async Task<(string Text, string? Finish)> StreamAsync(string key, string slug)
    {
        using var response = await _host.Client(key).PostAsJsonAsync("v1/chat/completions", new { model = "app:" + slug, stream = true, messages = new[] { new { role = "user", content = "年假有几天？" } } });
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        return (string.Concat(chunks.Select(c => c["choices"]?[0]?["delta"]?["content"]?.GetValue<string>())),
            chunks[^1]["choices"]![0]!["finish_reason"]?.GetValue<string>());
    }
}
