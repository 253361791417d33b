using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Access;
using Mulan.Tests.Support;

namespace Mulan.Tests.Audit;

public sealed class AuditLogTests : IAsyncLifetime
{
    private const string ProviderSecret = "sk-audit-provider-secret-7f3a9c";
    private const string HeaderSecret = "org-audit-header-secret-41d2e8";

    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static async Task<JsonObject> AuditAsync(HttpClient admin, string query = "") =>
        (await admin.GetFromJsonAsync<JsonObject>("api/audit?pageSize=1000" + query))!;

    private static async Task<IReadOnlyList<JsonObject>> EntriesAsync(HttpClient admin, string query = "") =>
        [.. (await AuditAsync(admin, query))["entries"]!.AsArray().OfType<JsonObject>()];

    private async Task<JsonObject> SingleEntryAsync(string action) => Assert.Single(await EntriesAsync(_host.Admin, "&action=" + action));

    private async Task<JsonObject> PostAsync(string path, object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var response = await _host.Admin.PostAsJsonAsync(path, body);
        Assert.Equal(expected, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static string Text(JsonNode? node) => node!.GetValue<string>();

    [Fact]
    public async Task Creating_a_workspace_records_one_entry_and_a_conflict_records_none()
    {
        Assert.Empty(await EntriesAsync(_host.Admin)); // start-up (default workspace, config catalog) is not an API change
        var acme = await PostAsync("api/workspaces", new { name = "acme" });
        await PostAsync("api/workspaces", new { name = "ACME" }, HttpStatusCode.Conflict);

        var entry = Assert.Single(await EntriesAsync(_host.Admin));
        Assert.Equal("workspace.created", Text(entry["action"]));
        Assert.Equal("admin", Text(entry["actor"]));
        Assert.Equal("workspace", Text(entry["targetType"]));
        Assert.Equal(Text(acme["id"]), Text(entry["targetId"]));
        Assert.Equal(Text(acme["id"]), Text(entry["workspace"]));
        Assert.Equal("acme", Text(entry["details"]!["name"]));
        Assert.True(entry["id"]!.GetValue<long>() > 0);
        Assert.True(DateTimeOffset.Parse(Text(entry["at"]), CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task Creating_a_key_records_its_settings_without_the_secret_and_revoking_it_is_recorded_once()
    {
        var acme = await PostAsync("api/workspaces", new { name = "acme" });
        var expires = new DateTimeOffset(2099, 1, 31, 8, 0, 0, TimeSpan.Zero);
        var created = await PostAsync("api/keys", new
        {
            name = "web", workspace = "acme", models = new[] { "chat", "embed" }, rpm = 60, tpm = 5000, expiresAt = expires,
            budget = new { amount = 12.5, currency = "USD", period = "month" },
        });
        var keyId = Text(created["id"]);
        var secret = Text(created["key"]);
        await PostAsync("api/keys", new { name = "x", rpm = 0 }, HttpStatusCode.BadRequest);

        var entry = await SingleEntryAsync("key.created");
        Assert.Equal("admin", Text(entry["actor"]));
        Assert.Equal("key", Text(entry["targetType"]));
        Assert.Equal(keyId, Text(entry["targetId"]));
        Assert.Equal(Text(acme["id"]), Text(entry["workspace"]));
        var details = entry["details"]!.AsObject();
        Assert.Equal("web", Text(details["name"]));
        Assert.Equal(Text(acme["id"]), Text(details["workspace"]));
        Assert.Equal(["chat", "embed"], details["models"]!.AsArray().Select(Text));
        Assert.Equal(12.5m, details["budget"]!["amount"]!.GetValue<decimal>());
        Assert.Equal("USD", Text(details["budget"]!["currency"]));
        Assert.Equal("month", Text(details["budget"]!["period"]));
        Assert.Equal(60, details["rpm"]!.GetValue<int>());
        Assert.Equal(5000, details["tpm"]!.GetValue<int>());
        Assert.Equal(expires, DateTimeOffset.Parse(Text(details["expiresAt"]), CultureInfo.InvariantCulture));

        Assert.Equal(HttpStatusCode.NoContent, (await _host.Admin.DeleteAsync($"api/keys/{keyId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _host.Admin.DeleteAsync($"api/keys/{keyId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.DeleteAsync("api/keys/key_nope")).StatusCode);
        var revoked = await SingleEntryAsync("key.revoked");
        Assert.Equal(keyId, Text(revoked["targetId"]));
        Assert.Equal(Text(acme["id"]), Text(revoked["workspace"]));
        Assert.Equal("web", Text(revoked["details"]!["name"]));

        var all = await _host.Admin.GetStringAsync("api/audit?pageSize=1000");
        Assert.Equal(3, JsonNode.Parse(all)!["count"]!.GetValue<long>()); // workspace, key created, key revoked
        Assert.DoesNotContain(secret[3..], all);
        Assert.DoesNotContain(KeyMaterial.Hash(secret), all);
    }

    [Fact]
    public async Task Creating_and_deleting_a_provider_is_recorded_without_its_api_key_or_header_values()
    {
        await PostAsync("api/providers", new
        {
            name = "extra", kind = "openai", baseUrl = _host.Vendor.BaseUrl.ToString(), apiKey = ProviderSecret,
            headers = new Dictionary<string, string> { ["OpenAI-Organization"] = HeaderSecret },
        });
        await PostAsync("api/providers", new { name = "extra", kind = "openai", baseUrl = "https://example.com/v1" }, HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.Conflict, (await _host.Admin.DeleteAsync("api/providers/fake")).StatusCode); // from the config file
        Assert.Equal(HttpStatusCode.NoContent, (await _host.Admin.DeleteAsync("api/providers/extra")).StatusCode);

        var created = await SingleEntryAsync("provider.created");
        Assert.Equal("admin", Text(created["actor"]));
        Assert.Equal("provider", Text(created["targetType"]));
        Assert.Equal("extra", Text(created["targetId"]));
        Assert.Null(created["workspace"]);
        var details = created["details"]!.AsObject();
        Assert.Equal("extra", Text(details["name"]));
        Assert.Equal("openai", Text(details["kind"]));
        Assert.Equal(_host.Vendor.BaseUrl.ToString().TrimEnd('/'), Text(details["baseUrl"]));
        Assert.True(details["hasApiKey"]!.GetValue<bool>());
        Assert.Equal("OpenAI-Organization", Text(Assert.Single(details["headers"]!.AsArray())));

        var deleted = await SingleEntryAsync("provider.deleted");
        Assert.Equal("extra", Text(deleted["targetId"]));
        Assert.True(deleted["details"]!["hasApiKey"]!.GetValue<bool>());
        Assert.Equal(2, (await AuditAsync(_host.Admin))["count"]!.GetValue<long>());

        var all = await _host.Admin.GetStringAsync("api/audit?pageSize=1000");
        Assert.DoesNotContain(ProviderSecret, all);
        Assert.DoesNotContain(HeaderSecret, all);
        Assert.DoesNotContain(_host.Vendor.ApiKey, all);
    }

    [Fact]
    public async Task Creating_and_deleting_a_model_is_recorded_with_each_deployment_and_its_price()
    {
        await PostAsync("api/models", new
        {
            name = "audited", strategy = "lowest-cost",
            deployments = new object[]
            {
                new { provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 0.15, output = 0.6 } },
                new { provider = "claude", model = "claude-haiku-4-5", price = new { currency = "CNY", input = 2, output = 8, cachedInput = 0.5 } },
            },
        });
        await PostAsync("api/models", new { name = "broken", deployments = Array.Empty<object>() }, HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.DeleteAsync("api/models/no-such-model")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _host.Admin.DeleteAsync("api/models/audited")).StatusCode);

        foreach (var action in new[] { "model.created", "model.deleted" })
        {
            var entry = await SingleEntryAsync(action);
            Assert.Equal("admin", Text(entry["actor"]));
            Assert.Equal("model", Text(entry["targetType"]));
            Assert.Equal("audited", Text(entry["targetId"]));
            Assert.Null(entry["workspace"]);
            var details = entry["details"]!.AsObject();
            Assert.Equal("audited", Text(details["name"]));
            Assert.Equal("lowest-cost", Text(details["strategy"]));
            var deployments = details["deployments"]!.AsArray();
            Assert.Equal(2, deployments.Count);
            Assert.Equal("fake", Text(deployments[0]!["provider"]));
            Assert.Equal("fake-chat", Text(deployments[0]!["model"]));
            Assert.Equal("USD", Text(deployments[0]!["price"]!["currency"]));
            Assert.Equal(0.15m, deployments[0]!["price"]!["input"]!.GetValue<decimal>());
            Assert.Equal(0.6m, deployments[0]!["price"]!["output"]!.GetValue<decimal>());
            Assert.Equal("claude", Text(deployments[1]!["provider"]));
            Assert.Equal("claude-haiku-4-5", Text(deployments[1]!["model"]));
            Assert.Equal("CNY", Text(deployments[1]!["price"]!["currency"]));
            Assert.Equal(0.5m, deployments[1]!["price"]!["cachedInput"]!.GetValue<decimal>());
        }
        Assert.Equal(2, (await AuditAsync(_host.Admin))["count"]!.GetValue<long>());
    }

    [Fact]
    public async Task Creating_and_updating_a_knowledge_base_is_recorded_in_its_workspace()
    {
        var acme = await PostAsync("api/workspaces", new { name = "acme" });
        var kb = await PostAsync("api/knowledge-bases", new { name = "handbook", workspace = "acme", description = "HR rules", embeddingModel = "none" });
        await PostAsync("api/knowledge-bases", new { name = "handbook", workspace = "acme", embeddingModel = "none" }, HttpStatusCode.Conflict);
        var kbId = Text(kb["id"]);
        using var member = _host.Client(await _host.CreateKeyAsync(new { name = "member", workspace = "acme" }));
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PatchAsJsonAsync($"api/knowledge-bases/{kbId}", new { rerankModel = "chat" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.Admin.PatchAsJsonAsync($"api/knowledge-bases/{kbId}", new { rerankModel = "nope" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _host.Admin.PatchAsJsonAsync($"api/knowledge-bases/{kbId}", new { rerankModel = "chat" })).StatusCode);

        var created = await SingleEntryAsync("knowledge_base.created");
        Assert.Equal("admin", Text(created["actor"]));
        Assert.Equal("knowledge_base", Text(created["targetType"]));
        Assert.Equal(kbId, Text(created["targetId"]));
        Assert.Equal(Text(acme["id"]), Text(created["workspace"]));
        Assert.Equal("handbook", Text(created["details"]!["name"]));
        Assert.Equal("HR rules", Text(created["details"]!["description"]));
        Assert.Equal("none", Text(created["details"]!["embeddingModel"]));

        var updated = await SingleEntryAsync("knowledge_base.updated");
        Assert.Equal(kbId, Text(updated["targetId"]));
        Assert.Equal(Text(acme["id"]), Text(updated["workspace"]));
        Assert.Equal("none", Text(updated["details"]!["rerankModel"]!["from"]));
        Assert.Equal("chat", Text(updated["details"]!["rerankModel"]!["to"]));
        Assert.Null(updated["details"]!["embeddingModel"]); // unchanged settings are left out
    }

    [Fact]
    public async Task Virtual_keys_get_401_on_the_audit_log_and_on_usage()
    {
        await PostAsync("api/workspaces", new { name = "acme" });
        using var member = _host.Client(await _host.CreateKeyAsync(new { name = "member", workspace = "acme" }));
        foreach (var path in new[] { "api/audit", "api/audit?workspace=acme", "api/usage", "api/usage?workspace=acme" })
        {
            using var response = await member.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.DoesNotContain("workspace.created", await response.Content.ReadAsStringAsync());
        }
        using var anonymous = new HttpClient { BaseAddress = _host.BaseUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/audit")).StatusCode);
    }

    [Theory]
    [InlineData("page=0", "page")]
    [InlineData("page=two", "page")]
    [InlineData("pageSize=0", "pageSize")]
    [InlineData("pageSize=1001", "pageSize")]
    [InlineData("pageSize=-5", "pageSize")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2025-13-45", "to")]
    [InlineData("from=2025-02-01&to=2025-01-01", "to")]
    [InlineData("workspace=nope", "workspace")]
    [InlineData("action=key.exploded", "action")]
    public async Task Bad_query_parameters_are_400_problems_naming_the_parameter_and_change_nothing(string query, string parameter)
    {
        await PostAsync("api/workspaces", new { name = "acme" });
        var before = await _host.Admin.GetStringAsync("api/audit");

        using var response = await _host.Admin.GetAsync("api/audit?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.NotNull(problem["errors"]![parameter]);
        Assert.Equal(before, await _host.Admin.GetStringAsync("api/audit"));
    }

    [Fact]
    public async Task Filters_by_workspace_action_and_time_and_pages_newest_first()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()));
        await using var host = await MulanHost.StartAsync(configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        var t0 = clock.Now;
        var alpha = await Created(host, "api/workspaces", new { name = "alpha" });               // t0
        clock.Advance(TimeSpan.FromHours(1));
        await Created(host, "api/workspaces", new { name = "beta" });                            // t0+1h
        clock.Advance(TimeSpan.FromHours(1));
        var alphaKey = await Created(host, "api/keys", new { name = "a", workspace = "alpha" }); // t0+2h
        clock.Advance(TimeSpan.FromHours(1));
        await Created(host, "api/keys", new { name = "b", workspace = "beta" });                 // t0+3h
        clock.Advance(TimeSpan.FromHours(1));
        (await host.Admin.DeleteAsync($"api/keys/{Text(alphaKey["id"])}")).EnsureSuccessStatusCode(); // t0+4h

        var all = await EntriesAsync(host.Admin);
        Assert.Equal(["key.revoked", "key.created", "key.created", "workspace.created", "workspace.created"], all.Select(e => Text(e["action"])));
        Assert.Equal(t0.AddHours(4), DateTimeOffset.Parse(Text(all[0]["at"]), CultureInfo.InvariantCulture));
        Assert.Equal(t0, DateTimeOffset.Parse(Text(all[4]["at"]), CultureInfo.InvariantCulture));

        var keys = await EntriesAsync(host.Admin, "&action=key.created");
        Assert.Equal(["b", "a"], keys.Select(e => Text(e["details"]!["name"])));

        foreach (var workspace in new[] { "alpha", Text(alpha["id"]) })
        {
            var inAlpha = await EntriesAsync(host.Admin, "&workspace=" + workspace);
            Assert.Equal(["key.revoked", "key.created", "workspace.created"], inAlpha.Select(e => Text(e["action"])));
            Assert.All(inAlpha, e => Assert.Equal(Text(alpha["id"]), Text(e["workspace"])));
        }
        Assert.Equal("a", Text(Assert.Single(await EntriesAsync(host.Admin, "&workspace=alpha&action=key.created"))["details"]!["name"]));

        // from is inclusive, to exclusive.
        var window = await EntriesAsync(host.Admin, $"&from={Iso(t0.AddHours(1))}&to={Iso(t0.AddHours(3))}");
        Assert.Equal(["key.created", "workspace.created"], window.Select(e => Text(e["action"])));
        Assert.Equal("beta", Text(window[1]["details"]!["name"]));
        Assert.Equal(2, (await EntriesAsync(host.Admin, $"&from={Iso(t0.AddHours(3))}")).Count);
        Assert.Equal(2, (await EntriesAsync(host.Admin, $"&to={Iso(t0.AddHours(2))}")).Count);
        Assert.Single(await EntriesAsync(host.Admin, $"&from={Iso(t0.AddHours(3))}&workspace=alpha"));

        var pages = new List<string>();
        for (var page = 1; page <= 4; page++)
        {
            var json = (await host.Admin.GetFromJsonAsync<JsonObject>($"api/audit?pageSize=2&page={page}"))!;
            Assert.Equal(5, json["count"]!.GetValue<long>());
            Assert.Equal(page, json["page"]!.GetValue<int>());
            Assert.Equal(2, json["pageSize"]!.GetValue<int>());
            pages.AddRange(json["entries"]!.AsArray().Select(e => e!["id"]!.ToJsonString()));
        }
        Assert.Equal(all.Select(e => e["id"]!.ToJsonString()), pages);
        var defaults = (await host.Admin.GetFromJsonAsync<JsonObject>("api/audit"))!;
        Assert.Equal(1, defaults["page"]!.GetValue<int>());
        Assert.Equal(50, defaults["pageSize"]!.GetValue<int>());
    }

    [Fact]
    public async Task Entries_survive_a_restart()
    {
        await PostAsync("api/workspaces", new { name = "acme" });
        await _host.CreateKeyAsync(new { name = "web", workspace = "acme" });
        var before = await EntriesAsync(_host.Admin);
        Assert.Equal(2, before.Count);

        var data = _host.DataDirectory;
        var vendor = _host.Vendor;
        await _host.StopKeepingDataAsync();
        _host = await MulanHost.StartAsync(dataDirectory: data, vendor: vendor);

        var after = await EntriesAsync(_host.Admin);
        Assert.Equal(before.Select(e => e.ToJsonString()), after.Select(e => e.ToJsonString()));
        await PostAsync("api/workspaces", new { name = "later" });
        var latest = (await EntriesAsync(_host.Admin))[0];
        Assert.Equal("later", Text(latest["details"]!["name"]));
        Assert.True(latest["id"]!.GetValue<long>() > before.Max(e => e["id"]!.GetValue<long>()));
    }

    private static async Task<JsonObject> Created(MulanHost host, string path, object body)
    {
        using var response = await host.Admin.PostAsJsonAsync(path, body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static string Iso(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O", CultureInfo.InvariantCulture));

    /// <summary>Wall-clock time that moves only when told; timers stay real.</summary>
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; private set; } = start;

        public void Advance(TimeSpan by) => Now += by;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
