using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Mulan.Tests.Support;

namespace Mulan.Tests.Pilots;

/// <summary>One server whose webhooks may reach 127.0.0.1, and a loopback listener that records what is posted to it.</summary>
public sealed class PilotLedgerFixture : IAsyncLifetime
{
    private WebApplication _hook = null!;

    public MulanHost Host { get; private set; } = null!;
    public string HookUrl { get; private set; } = "";
    public ConcurrentQueue<(string? Header, JsonObject Body)> Received { get; } = new();
    public HttpClient Outsider { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        _hook = builder.Build();
        _hook.MapPost("/hook", async (HttpRequest request) =>
        {
            Received.Enqueue((request.Headers["X-Mulan-Pilot"].ToString(), (await JsonNode.ParseAsync(request.Body))!.AsObject()));
            return Results.Ok();
        });
        await _hook.StartAsync();
        HookUrl = _hook.Urls.Single() + "/hook";
        Host = await MulanHost.StartAsync(configure: b => b.Configuration["Assistant:WebhookAllowHosts:0"] = "127.0.0.1");
        using var ws = await Host.Admin.PostAsJsonAsync("api/workspaces", new { name = "other" });
        Assert.True(ws.IsSuccessStatusCode, await ws.Content.ReadAsStringAsync());
        Outsider = Host.Client(await Host.CreateKeyAsync(new { name = "outsider", workspace = "other" }));
    }

    public async Task DisposeAsync()
    {
        Outsider.Dispose();
        await Host.DisposeAsync();
        await _hook.DisposeAsync();
    }
}

/// <summary>Alerts to webhooks (allowed and refused), PATCH, scope removal around the freeze, amounts with no exchange rate,
/// and the report's formats and languages.</summary>
public sealed class PilotLedgerApiTests(PilotLedgerFixture fixture) : IClassFixture<PilotLedgerFixture>
{
    private MulanHost Host => fixture.Host;
    private HttpClient Admin => fixture.Host.Admin;
    private static readonly string Today = DateTime.UtcNow.ToString("yyyy-MM-dd");
    private static readonly string End = DateTime.UtcNow.AddDays(29).ToString("yyyy-MM-dd");

    private static async Task<JsonObject> SendAsync(Task<HttpResponseMessage> sending, HttpStatusCode expected)
    {
        using var response = await sending;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {text}");
        return text.Length == 0 ? [] : JsonNode.Parse(text) as JsonObject ?? [];
    }

    private Task<JsonObject> PostAsync(string path, object body, HttpStatusCode expected = HttpStatusCode.Created) => SendAsync(Admin.PostAsJsonAsync(path, body), expected);

    private async Task<JsonObject> PatchAsync(string path, string json, HttpStatusCode expected) =>
        await SendAsync(Admin.PatchAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json")), expected);

    private static string Id(JsonObject o) => o["id"]!.GetValue<string>();

    private async Task<string> PilotAsync(object? overrides = null, string contract = "CNY")
    {
        var body = new JsonObject
        {
            ["name"] = "Pilot", ["customer"] = "Acme", ["contractValue"] = new JsonObject { ["amount"] = 1000, ["currency"] = contract },
            ["start"] = Today, ["end"] = End,
        };
        if (overrides is not null)
        {
            foreach (var (k, v) in JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(overrides))!.AsObject())
            {
                body[k] = v?.DeepClone();
            }
        }
        return Id(await PostAsync("api/pilots", body));
    }

    private async Task<JsonObject> LedgerAsync(string pilot) => (await Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}/ledger"))!;

    private List<JsonObject> PostsFor(string pilot) => [.. fixture.Received.Where(r => r.Body["pilot"]?.GetValue<string>() == pilot).Select(r => r.Body)];

    [Fact]
    public async Task Each_threshold_is_posted_once_to_an_allowed_webhook_however_often_the_ledger_is_read()
    {
        var keyResponse = await PostAsync("api/keys", new { name = "pilot traffic" });
        var pilot = await PilotAsync(new
        {
            budget = new { amount = 0.000001m, currency = "CNY" }, keys = new[] { Id(keyResponse) },
            alerts = new { thresholds = new[] { 1.0, 0.5 }, webhook = new { url = fixture.HookUrl } },
        });

        // 600 of a 1,000 CNY contract: the 0.5 contract alert goes out when the effort is logged.
        await PostAsync($"api/pilots/{pilot}/effort", new { role = "engineer", days = 1, dayRate = new { amount = 600, currency = "CNY" }, date = Today });
        var posted = Assert.Single(PostsFor(pilot));
        Assert.Equal("contract", posted["kind"]!.GetValue<string>());
        Assert.Equal(0.5m, posted["threshold"]!.GetValue<decimal>());
        Assert.Equal("Pilot", posted["name"]!.GetValue<string>());
        Assert.Equal(0.6m, posted["ratio"]!.GetValue<decimal>());
        Assert.Equal(pilot, fixture.Received.Single(r => r.Body["pilot"]?.GetValue<string>() == pilot).Header);

        // Traffic on the pilot's key takes spend past both budget thresholds at once.
        using var client = Host.Client(keyResponse["key"]!.GetValue<string>());
        (await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } })).EnsureSuccessStatusCode();
        await Host.WaitForRecordsAsync(1, $"&key={Id(keyResponse)}");
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => LedgerAsync(pilot)));
        for (var i = 0; i < 3; i++)
        {
            await LedgerAsync(pilot);
        }
        // 500 more of effort: cost to date 1,100 + spend, past the contract's 1.0.
        await PostAsync($"api/pilots/{pilot}/effort", new { role = "pm", days = 1, dayRate = new { amount = 500, currency = "CNY" }, date = Today });
        var ledger = await LedgerAsync(pilot);
        await LedgerAsync(pilot);

        var posts = PostsFor(pilot).Select(p => (p["kind"]!.GetValue<string>(), p["threshold"]!.GetValue<decimal>())).Order().ToList();
        Assert.Equal([("budget", 0.5m), ("budget", 1.0m), ("contract", 0.5m), ("contract", 1.0m)], posts);
        Assert.All(PostsFor(pilot), p => Assert.Equal("pilot.alert", p["event"]!.GetValue<string>()));

        var alerts = ledger["alerts"]!.AsArray();
        Assert.Equal(posts, alerts.Select(a => (a!["kind"]!.GetValue<string>(), a["threshold"]!.GetValue<decimal>())).Order());
        Assert.All(alerts, a => Assert.Equal("HTTP 200", a!["delivery"]!.GetValue<string>()));
        var report = (await Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}/report?format=json"))!;
        Assert.Equal(posts, report["alerts"]!.AsArray().Select(a => (a!["kind"]!.GetValue<string>(), a["threshold"]!.GetValue<decimal>())).Order());
        var md = await Admin.GetStringAsync($"api/pilots/{pilot}/report?format=md");
        Assert.Contains("- contract ≥ 0.5: 0.6", md);
        Assert.Contains("- budget ≥ 1", md);
        Assert.Equal(4, PostsFor(pilot).Count);
    }

    [Fact]
    public async Task A_threshold_written_another_way_is_the_same_threshold_and_does_not_fire_again()
    {
        // 1.0 and 1 are one threshold: changing how the alerts are written must not post the alert a second time.
        var pilot = await PilotAsync(new { alerts = new { thresholds = new[] { 1.0m }, webhook = new { url = fixture.HookUrl } } });
        await PostAsync($"api/pilots/{pilot}/effort", new { role = "engineer", days = 1, dayRate = new { amount = 1000, currency = "CNY" }, date = Today });
        Assert.Single(PostsFor(pilot));
        await PatchAsync($"api/pilots/{pilot}", """{"alerts":{"thresholds":[1, 1.00, 0.50],"webhook":{"url":"URL"}}}""".Replace("URL", fixture.HookUrl, StringComparison.Ordinal), HttpStatusCode.OK);
        var shown = (await Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}"))!["pilot"]!["alerts"]!["thresholds"]!.AsArray();
        Assert.Equal(["0.5", "1"], shown.Select(t => t!.ToJsonString()));
        var alerts = (await LedgerAsync(pilot))["alerts"]!.AsArray();
        Assert.Equal([("contract", 0.5m), ("contract", 1m)], alerts.Select(a => (a!["kind"]!.GetValue<string>(), a["threshold"]!.GetValue<decimal>())));
        await LedgerAsync(pilot);
        Assert.Equal([0.5m, 1m], PostsFor(pilot).Select(p => p["threshold"]!.GetValue<decimal>()).Order());
    }

    [Fact]
    public async Task A_webhook_on_a_private_host_that_is_not_allowed_is_not_called_and_the_alert_shows_the_failed_delivery()
    {
        var pilot = await PilotAsync(new { alerts = new { thresholds = new[] { 0.5 }, webhook = new { url = "http://10.20.30.40:8080/hook" } } });
        await PostAsync($"api/pilots/{pilot}/effort", new { role = "engineer", days = 1, dayRate = new { amount = 700, currency = "CNY" }, date = Today });
        await LedgerAsync(pilot);
        var alert = Assert.Single((await LedgerAsync(pilot))["alerts"]!.AsArray())!;
        Assert.Equal("contract", alert["kind"]!.GetValue<string>());
        Assert.StartsWith("failed", alert["delivery"]!.GetValue<string>());
        Assert.Empty(PostsFor(pilot));
        var report = (await Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}/report?format=json"))!;
        Assert.StartsWith("failed", Assert.Single(report["alerts"]!.AsArray())!["delivery"]!.GetValue<string>());
        Assert.Contains("- contract ≥ 0.5: 0.7", await Admin.GetStringAsync($"api/pilots/{pilot}/report?format=md"));
    }

    [Fact]
    public async Task Patch_changes_the_fields_it_names_and_a_bad_value_changes_nothing()
    {
        var key = Id(await PostAsync("api/keys", new { name = "patched in" }));
        var pilot = await PilotAsync();
        var later = DateTime.UtcNow.AddDays(59).ToString("yyyy-MM-dd");
        var patched = await PatchAsync($"api/pilots/{pilot}", $$$"""
            {"status":"active","end":"{{{later}}}","budget":{"amount":250.5,"currency":"USD"},"keys":["{{{key}}}"],
             "alerts":{"thresholds":[0.9,0.8],"webhook":{"url":"{{{fixture.HookUrl}}}"}},"name":"Renamed"}
            """, HttpStatusCode.OK);
        Assert.Equal("active", patched["status"]!.GetValue<string>());
        var shown = (await Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}"))!["pilot"]!;
        Assert.Equal("active", shown["status"]!.GetValue<string>());
        Assert.Equal("Renamed", shown["name"]!.GetValue<string>());
        Assert.Equal(Today, shown["start"]!.GetValue<string>());
        Assert.Equal(later, shown["end"]!.GetValue<string>());
        Assert.Equal(250.5m, shown["budget"]!["amount"]!.GetValue<decimal>());
        Assert.Equal("USD", shown["budget"]!["currency"]!.GetValue<string>());
        Assert.Equal([key], shown["keys"]!.AsArray().Select(k => k!.GetValue<string>()));
        Assert.Equal([0.8m, 0.9m], shown["alerts"]!["thresholds"]!.AsArray().Select(t => t!.GetValue<decimal>()));
        Assert.Equal(fixture.HookUrl, shown["alerts"]!["webhook"]!["url"]!.GetValue<string>());
        // The ledger follows: 60 days now, budget converted at 7.1.
        var ledger = (await LedgerAsync(pilot))["ledger"]!;
        Assert.Equal(60, ledger["totalDays"]!.GetValue<int>());
        Assert.Equal(250.5m * 7.1m, ledger["budget"]!.GetValue<decimal>());

        var before = (await Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}"))!.ToJsonString();
        var bad = await PatchAsync($"api/pilots/{pilot}", """
            {"status":"finished","start":"2026-13-01","budget":{"amount":-1,"currency":"yen"},"alerts":{"thresholds":[0,11,"x"],"webhook":{"url":"ftp://x"}},
             "keys":["key_nope"],"contractValue":{"amount":1,"currency":"CNY"}}
            """, HttpStatusCode.BadRequest);
        var fields = bad["errors"]!.AsObject().Select(e => e.Key).Order().ToList();
        Assert.Equal(["$.alerts.thresholds[0]", "$.alerts.thresholds[1]", "$.alerts.thresholds[2]", "$.alerts.webhook.url", "$.budget.amount", "$.budget.currency",
            "$.contractValue", "$.keys[0]", "$.start", "$.status"], fields);
        // One bad field among good ones: nothing of the good ones is applied either.
        var reversed = await PatchAsync($"api/pilots/{pilot}", $$"""{"status":"closed","end":"{{Today}}","start":"{{later}}"}""", HttpStatusCode.BadRequest);
        Assert.Equal(["$.end"], reversed["errors"]!.AsObject().Select(e => e.Key));
        var startAfterEnd = await PatchAsync($"api/pilots/{pilot}", "{\"start\":\"" + DateTime.UtcNow.AddDays(70).ToString("yyyy-MM-dd") + "\"}", HttpStatusCode.BadRequest);
        Assert.Equal(["$.start"], startAfterEnd["errors"]!.AsObject().Select(e => e.Key));
        var otherKey = Id(await PostAsync("api/keys", new { name = "theirs", workspace = "other" }));
        var foreign = await PatchAsync($"api/pilots/{pilot}", $$"""{"keys":["{{otherKey}}"]}""", HttpStatusCode.BadRequest);
        Assert.Equal(["$.keys[0]"], foreign["errors"]!.AsObject().Select(e => e.Key));
        await PatchAsync($"api/pilots/{pilot}", "[1]", HttpStatusCode.BadRequest);
        Assert.Equal(before, (await Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}"))!.ToJsonString());

        // Another workspace's key: 404, and still nothing changed.
        await SendAsync(fixture.Outsider.PatchAsync($"api/pilots/{pilot}", JsonContent.Create(new { status = "closed" })), HttpStatusCode.NotFound);
        await PatchAsync("api/pilots/pilot_nope", """{"status":"closed"}""", HttpStatusCode.NotFound);
        Assert.Equal(before, (await Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}"))!.ToJsonString());
    }

    [Fact]
    public async Task A_scope_item_is_removed_before_the_freeze_and_refused_after_it()
    {
        var pilot = await PilotAsync();
        var first = Id(await PostAsync($"api/pilots/{pilot}/scope", new { title = "First", priority = "must" }));
        var second = Id(await PostAsync($"api/pilots/{pilot}/scope", new { title = "Second", priority = "could" }));
        await SendAsync(Admin.DeleteAsync($"api/pilots/{pilot}/scope/{first}"), HttpStatusCode.NoContent);
        Assert.Equal([second], (await Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}"))!["scope"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()));
        await SendAsync(Admin.DeleteAsync($"api/pilots/{pilot}/scope/{first}"), HttpStatusCode.NotFound);
        await SendAsync(fixture.Outsider.DeleteAsync($"api/pilots/{pilot}/scope/{second}"), HttpStatusCode.NotFound);

        await PostAsync($"api/pilots/{pilot}/freeze", new { }, HttpStatusCode.OK);
        var refused = await SendAsync(Admin.DeleteAsync($"api/pilots/{pilot}/scope/{second}"), HttpStatusCode.Conflict);
        Assert.Equal("scope_frozen", refused["code"]!.GetValue<string>());
        var after = (await Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}"))!;
        Assert.Equal([second], after["scope"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()));
        Assert.Equal([second], after["baseline"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Effort_in_a_currency_with_no_rate_to_the_contract_is_listed_as_unconverted_and_left_out_of_every_sum()
    {
        var pilot = await PilotAsync(new { budget = new { amount = 50000, currency = "JPY" } });
        var item = Id(await PostAsync($"api/pilots/{pilot}/scope", new { title = "FAQ", priority = "must" }));
        await PostAsync($"api/pilots/{pilot}/effort", new { scopeItem = item, role = "engineer", days = 1.5, dayRate = new { amount = 200, currency = "CNY" }, date = Today });
        await PostAsync($"api/pilots/{pilot}/effort", new { role = "pm", days = 0.5, dayRate = new { amount = 100, currency = "USD" }, date = Today });
        var jpy = Id(await PostAsync($"api/pilots/{pilot}/effort", new { scopeItem = item, role = "engineer", days = 2, dayRate = new { amount = 40000, currency = "JPY" }, date = Today }));

        var ledger = (await LedgerAsync(pilot))["ledger"]!;
        Assert.Equal("CNY", ledger["currency"]!.GetValue<string>());
        const decimal converted = 1.5m * 200 + 0.5m * 100 * 7.1m;
        Assert.Equal(converted, ledger["effort"]!.GetValue<decimal>());
        Assert.Equal(converted, ledger["costToDate"]!.GetValue<decimal>());
        Assert.Equal(1000 - converted, ledger["margin"]!.GetValue<decimal>());
        Assert.Equal(300m, ledger["effortByRole"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == "engineer")!["amount"]!.GetValue<decimal>());
        Assert.Equal(300m, ledger["effortByScopeItem"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == item)!["amount"]!.GetValue<decimal>());
        Assert.Equal(converted, ledger["byDay"]!.AsArray().Sum(d => d!["effort"]!.GetValue<decimal>()));
        var unconverted = ledger["unconverted"]!.AsArray().Select(u => u!.AsObject()).ToList();
        var effort = unconverted.Single(u => u["source"]!.GetValue<string>() == "effort:" + jpy);
        Assert.Equal("JPY", effort["currency"]!.GetValue<string>());
        Assert.Equal(80000m, effort["amount"]!.GetValue<decimal>());
        Assert.Equal(Today, effort["day"]!.GetValue<string>());
        // The JPY budget has no rate either: no budget figure rather than a guessed one.
        var budget = unconverted.Single(u => u["source"]!.GetValue<string>() == "budget");
        Assert.Equal(50000m, budget["amount"]!.GetValue<decimal>());
        Assert.Null(ledger["budget"]);
        Assert.Null(ledger["budgetUsed"]);
        Assert.Equal(2, unconverted.Count);
        var md = await Admin.GetStringAsync($"api/pilots/{pilot}/report?format=md&lang=zh-Hans");
        Assert.Contains("## 无法换算（未计入）", md);
        Assert.Contains($"- effort:{jpy}: 80000 JPY", md);
    }

    [Fact]
    public async Task The_report_speaks_each_language_escapes_titles_and_refuses_unknown_formats_and_languages()
    {
        var pilot = await PilotAsync();
        await PostAsync($"api/pilots/{pilot}/scope", new { title = "<script>alert(1)</script>", priority = "must" });

        var hans = await Admin.GetStringAsync($"api/pilots/{pilot}/report?format=md&lang=zh-Hans");
        Assert.StartsWith("# 试点报告: Pilot", hans);
        Assert.Contains("必须", hans);
        var hant = await Admin.GetStringAsync($"api/pilots/{pilot}/report?format=md&lang=zh-Hant");
        Assert.StartsWith("# 試行專案報告: Pilot", hant);
        var en = await Admin.GetStringAsync($"api/pilots/{pilot}/report?format=md");
        Assert.StartsWith("# Pilot report: Pilot", en);
        foreach (var md in new[] { hans, hant, en })
        {
            Assert.DoesNotContain("<script>", md);
            Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", md);
        }
        using var htmlResponse = await Admin.GetAsync($"api/pilots/{pilot}/report?format=html&lang=zh-Hant");
        Assert.Equal("text/html", htmlResponse.Content.Headers.ContentType?.MediaType);
        var html = await htmlResponse.Content.ReadAsStringAsync();
        Assert.Contains("試行專案報告", html);
        Assert.DoesNotContain("<script>alert", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        var json = (await Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}/report?format=json&lang=zh-Hans"))!;
        Assert.Equal("<script>alert(1)</script>", json["scope"]!["current"]![0]!["title"]!.GetValue<string>());

        foreach (var (query, fields) in new (string, string[])[]
        {
            ("format=pdf", ["format"]), ("lang=fr", ["lang"]), ("format=HTML&lang=zh-hans", ["format", "lang"]), ("lang=zh", ["lang"]),
        })
        {
            var problem = await SendAsync(Admin.GetAsync($"api/pilots/{pilot}/report?{query}"), HttpStatusCode.BadRequest);
            Assert.Equal(fields, problem["errors"]!.AsObject().Select(e => e.Key).Order());
        }
        await SendAsync(fixture.Outsider.GetAsync($"api/pilots/{pilot}/report?format=md"), HttpStatusCode.NotFound);
    }
}
