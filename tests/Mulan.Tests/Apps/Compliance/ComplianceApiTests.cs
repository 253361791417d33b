using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Apps.Compliance;

public sealed class ComplianceApiTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _keyA = "";
    private string _keyB = "";

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "alpha" })).EnsureSuccessStatusCode();
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "beta" })).EnsureSuccessStatusCode();
        _keyA = await _host.CreateKeyAsync(new { name = "a", workspace = "alpha" });
        _keyB = await _host.CreateKeyAsync(new { name = "b", workspace = "beta" });
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static async Task<JsonObject> CheckAsync(HttpClient http, object body)
    {
        using var response = await http.PostAsJsonAsync("api/compliance/check", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static IEnumerable<string> Terms(JsonObject checked_) => checked_["findings"]!.AsArray().Select(f => f!["term"]!.GetValue<string>());

    private static readonly object CompetitorRules = new
    {
        rules = new object[]
        {
            new { terms = new[] { "竞品甲", "Rival" }, category = "competitor", rule = "不得点名竞品", suggestion = "同类产品" },
            new { terms = new[] { "第一" }, category = "brand", rule = "品牌名例外", exceptions = new[] { "第一坊" } },
        },
    };

    [Fact]
    public async Task Check_answers_findings_with_positions_and_the_rewrite()
    {
        var result = await CheckAsync(_host.Admin, new { text = "全网第一的國家級護膚品，根治痘痘，無副作用" });
        var findings = result["findings"]!.AsArray();
        Assert.Equal(["全网第一", "國家級", "根治", "無副作用"], Terms(result));
        Assert.Equal((5, 3, "absolute-claim", "專業級"), (findings[1]!["start"]!.GetValue<int>(), findings[1]!["length"]!.GetValue<int>(),
            findings[1]!["category"]!.GetValue<string>(), findings[1]!["suggestion"]!.GetValue<string>()));
        Assert.StartsWith("《广告法》第九条第三项", findings[0]!["rule"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("广受欢迎的專業級護膚品，幫助緩解痘痘，溫和", result["rewritten"]!.GetValue<string>());

        var clean = await CheckAsync(_host.Admin, new { text = "第一次使用，第一步先清洁。" });
        Assert.Empty(clean["findings"]!.AsArray());
        Assert.Null(clean["rewritten"]);
    }

    [Fact]
    public async Task A_channel_adds_its_limits_and_an_unknown_one_is_400_naming_it()
    {
        var result = await CheckAsync(_host.Admin, new { text = "标题：" + new string('美', 22) + "\n正文：好用。", channel = "xiaohongshu" });
        var finding = Assert.Single(result["findings"]!.AsArray());
        Assert.Equal(("channel.title_length", 23, 2), (finding!["rule"]!.GetValue<string>(), finding["start"]!.GetValue<int>(), finding["length"]!.GetValue<int>()));

        using var response = await _host.Admin.PostAsJsonAsync("api/compliance/check", new { text = "文案", channel = "tiktok" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("tiktok", problem["errors"]!["channel"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workspace_rules_apply_to_its_own_keys_only()
    {
        using var put = await _host.Admin.PutAsJsonAsync("api/compliance/rules?workspace=alpha", CompetitorRules);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        const string Text = "第一坊新品，比竞品甲和 Rival 都好";
        using var a = _host.Client(_keyA);
        using var b = _host.Client(_keyB);
        var forA = await CheckAsync(a, new { text = Text });
        Assert.Equal(["竞品甲", "Rival"], Terms(forA));
        Assert.Equal("第一坊新品，比同类产品和 同类产品 都好", forA["rewritten"]!.GetValue<string>());
        // The administrator names the workspace; a key of another workspace neither sees the rules nor can name alpha.
        Assert.Equal(["竞品甲", "Rival"], Terms(await CheckAsync(_host.Admin, new { text = Text, workspace = "alpha" })));
        Assert.Equal(["第一"], Terms(await CheckAsync(b, new { text = Text })));
        Assert.Equal(["第一"], Terms(await CheckAsync(_host.Admin, new { text = Text })));
        using (var foreign = await b.PostAsJsonAsync("api/compliance/check", new { text = Text, workspace = "alpha" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }
        using (var foreignRules = await b.GetAsync("api/compliance/rules?workspace=alpha"))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreignRules.StatusCode);
        }

        var rulesA = (await a.GetFromJsonAsync<JsonObject>("api/compliance/rules"))!;
        Assert.Equal(2, rulesA["rules"]!.AsArray().Count);
        Assert.True(rulesA["builtIn"]!.AsArray().Count > 20);
        Assert.Empty((await b.GetFromJsonAsync<JsonObject>("api/compliance/rules"))!["rules"]!.AsArray());

        using var byKey = await a.PutAsJsonAsync("api/compliance/rules?workspace=alpha", new { rules = Array.Empty<object>() });
        Assert.Equal(HttpStatusCode.Forbidden, byKey.StatusCode);

        var audit = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/audit?action=compliance.rules_changed"))!["entries"]!.AsArray();
        var entry = Assert.Single(audit);
        Assert.Equal(["Rival", "竞品甲", "第一"], entry!["details"]!["added"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    public static TheoryData<string, string> BadRules => new()
    {
        { """{"rules":[{"terms":["ok"],"category":"x","rule":"r"},{"terms":[""],"category":"x","rule":"r"}]}""", "rules[1].terms[0]" },
        { """{"rules":[{"terms":["ok"],"category":"x","rule":"r"},{"terms":["ok"],"category":"x","rule":"r"},{"terms":["ok","TERM_TOO_LONG"],"category":"x","rule":"r"}]}""", "rules[2].terms[1]" },
        { """{"rules":[{"terms":[],"category":"x","rule":"r"}]}""", "rules[0].terms" },
        { """{"rules":[{"terms":["a"],"category":"Bad Category","rule":"r"}]}""", "rules[0].category" },
        { """{"rules":[{"terms":["a"],"category":"x"}]}""", "rules[0].rule" },
        { """{"rules":[{"terms":["a"],"category":"x","rule":"r","exceptions":["ok",""]}]}""", "rules[0].exceptions[1]" },
        { """{"rules":[null]}""", "rules[0]" },
        { """{}""", "rules" },
        { "TOO_MANY_RULES", "rules" },
        { "TOO_MANY_TERMS", "rules[1].terms[0]" },
    };

    [Theory]
    [MemberData(nameof(BadRules))]
    public async Task A_bad_put_is_400_naming_the_json_path_and_changes_nothing(string body, string path)
    {
        using (var first = await _host.Admin.PutAsJsonAsync("api/compliance/rules?workspace=alpha", CompetitorRules))
        {
            first.EnsureSuccessStatusCode();
        }
        var before = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/compliance/rules?workspace=alpha"))!.ToJsonString();
        body = body switch
        {
            "TOO_MANY_RULES" => $$"""{"rules":[{{string.Join(",", Enumerable.Repeat("""{"terms":["a"],"category":"x","rule":"r"}""", 1001))}}]}""",
            "TOO_MANY_TERMS" => $$"""{"rules":[{"terms":[{{string.Join(",", Enumerable.Repeat("\"a\"", 1000))}}],"category":"x","rule":"r"},{"terms":["b"],"category":"x","rule":"r"}]}""",
            _ => body.Replace("TERM_TOO_LONG", new string('长', 51), StringComparison.Ordinal),
        };

        using var response = await _host.Admin.PutAsync("api/compliance/rules?workspace=alpha", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(path), $"expected {path} in {errors.ToJsonString()}");

        Assert.Equal(before, (await _host.Admin.GetFromJsonAsync<JsonObject>("api/compliance/rules?workspace=alpha"))!.ToJsonString());
        var audit = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/audit?action=compliance.rules_changed"))!["entries"]!.AsArray();
        Assert.Single(audit);
    }

    [Fact]
    public async Task Hostile_input_is_refused_and_nothing_is_stored()
    {
        using (var huge = await _host.Admin.PostAsJsonAsync("api/compliance/check", new { text = new string('最', 100_001) }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
            Assert.Contains("100000", (await huge.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["text"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        }
        using (var atLimit = await _host.Admin.PostAsJsonAsync("api/compliance/check", new { text = new string('最', 100_000) }))
        {
            Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        }
        using (var missing = await _host.Admin.PostAsJsonAsync("api/compliance/check", new { channel = "sms" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        }
        using (var hugeRule = await _host.Admin.PutAsJsonAsync("api/compliance/rules?workspace=beta",
            new { rules = new[] { new { terms = new[] { new string('x', 200_000) }, category = "x", rule = "r" } } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, hugeRule.StatusCode);
        }
        using (var anonymous = new HttpClient { BaseAddress = _host.BaseUrl })
        using (var unauthorized = await anonymous.PostAsJsonAsync("api/compliance/check", new { text = "最佳" }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        }
        var rules = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/compliance/rules?workspace=beta"))!;
        Assert.Empty(rules["rules"]!.AsArray());
        Assert.Null(rules["updatedAt"]);
        Assert.Empty((await _host.Admin.GetFromJsonAsync<JsonObject>("api/audit?action=compliance.rules_changed"))!["entries"]!.AsArray());
    }

    [Fact]
    public async Task Channels_lists_every_preset_with_its_limits()
    {
        var channels = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/compliance/channels"))!["channels"]!.AsArray();
        Assert.Equal(["wechat-article", "weibo", "xiaohongshu", "ecommerce-detail", "sms", "english-ad"], channels.Select(c => c!["name"]!.GetValue<string>()));
        var xhs = channels.Single(c => c!["name"]!.GetValue<string>() == "xiaohongshu")!;
        Assert.Equal(20, xhs["titleMaxCharacters"]!.GetValue<int>());
    }
}
