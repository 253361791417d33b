using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Pilots;

public sealed class PilotApiTests
{
    [Fact]
    public async Task Frozen_scope_needs_a_change_request_and_the_ledger_is_the_exact_sum_of_usage_and_effort()
    {
        await using var host = await MulanHost.StartAsync();
        using var keyResponse = await host.Admin.PostAsJsonAsync("api/keys", new { name = "pilot" });
        var key = (await keyResponse.Content.ReadFromJsonAsync<JsonObject>())!;
        var keyId = key["id"]!.GetValue<string>();
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var end = DateTime.UtcNow.AddDays(89).ToString("yyyy-MM-dd");

        using var bad = await host.Admin.PostAsJsonAsync("api/pilots", new { name = "x", customer = "c", contractValue = new { amount = 1, currency = "RMBX" }, start = end, end = today });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var badErrors = (await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.True(badErrors.ContainsKey("$.contractValue.currency") && badErrors.ContainsKey("$.end"), badErrors.ToJsonString());

        using var created = await host.Admin.PostAsJsonAsync("api/pilots", new
        {
            name = "<b>FAQ</b>", customer = "Acme", contractValue = new { amount = 300000, currency = "CNY" }, start = today, end,
            budget = new { amount = 1000, currency = "CNY" }, keys = new[] { keyId },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        using var unknownMetric = await host.Admin.PostAsJsonAsync($"api/pilots/{id}/scope", new { title = "FAQ", priority = "must", criteria = new[] { new { metric = "vibes", threshold = 1, set = "s" } } });
        Assert.Equal(HttpStatusCode.BadRequest, unknownMetric.StatusCode);
        Assert.Contains("$.criteria[0].metric", await unknownMetric.Content.ReadAsStringAsync());
        using var missingSet = await host.Admin.PostAsJsonAsync($"api/pilots/{id}/scope", new { title = "FAQ", priority = "must", criteria = new[] { new { metric = "factRecall", threshold = 0.8, set = "no-such-set" } } });
        Assert.Equal(HttpStatusCode.BadRequest, missingSet.StatusCode);
        Assert.Contains("$.criteria[0].set", await missingSet.Content.ReadAsStringAsync());
        using var setResponse = await host.Admin.PostAsJsonAsync("api/evaluations/sets", new
        {
            name = "faq", workspace = "default", items = new[] { new { question = "How many days of annual leave?", expectedFacts = new[] { "15" } } },
        });
        Assert.Equal(HttpStatusCode.Created, setResponse.StatusCode);
        var setId = (await setResponse.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using var item = await host.Admin.PostAsJsonAsync($"api/pilots/{id}/scope", new { title = "FAQ", priority = "must", criteria = new[] { new { metric = "factRecall", threshold = 0.8, set = setId } } });
        Assert.Equal(HttpStatusCode.Created, item.StatusCode);
        var itemId = (await item.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using var frozen = await host.Admin.PostAsJsonAsync($"api/pilots/{id}/freeze", new { });
        Assert.Equal(HttpStatusCode.OK, frozen.StatusCode);

        using var creep = await host.Admin.PostAsJsonAsync($"api/pilots/{id}/scope", new { title = "Also translate", priority = "should" });
        Assert.Equal(HttpStatusCode.Conflict, creep.StatusCode);
        Assert.Contains("/changes", await creep.Content.ReadAsStringAsync());
        Assert.Single((await host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{id}"))!["scope"]!.AsArray());

        using var change = await host.Admin.PostAsJsonAsync($"api/pilots/{id}/changes", new
        {
            kind = "add", scope = new { title = "Also translate", priority = "should" },
            impact = new { effortDays = 3, cost = new { amount = 9000, currency = "CNY" }, scheduleDays = 5 }, reason = "customer asked",
        });
        Assert.Equal(HttpStatusCode.Created, change.StatusCode);
        var cid = (await change.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using var approved = await host.Admin.PostAsJsonAsync($"api/pilots/{id}/changes/{cid}/approve", new { by = "Acme PM" });
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Equal(2, (await host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{id}"))!["scope"]!.AsArray().Count);
        using var again = await host.Admin.PostAsJsonAsync($"api/pilots/{id}/changes/{cid}/reject", new { by = "Acme PM" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        using var negative = await host.Admin.PostAsJsonAsync($"api/pilots/{id}/effort", new { role = "dev", days = -1, dayRate = new { amount = 2000, currency = "CNY" }, date = today });
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        using var effort = await host.Admin.PostAsJsonAsync($"api/pilots/{id}/effort", new { scopeItem = itemId, role = "dev", days = 1.5, dayRate = new { amount = 2000.10, currency = "CNY" }, date = today });
        Assert.Equal(HttpStatusCode.Created, effort.StatusCode);

        using var client = host.Client(key["key"]!.GetValue<string>());
        for (var i = 0; i < 3; i++)
        {
            using var chat = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hello " + i } } });
            chat.EnsureSuccessStatusCode();
        }
        var records = await host.WaitForRecordsAsync(3);
        var usd = records.Sum(r => r["cost"] is JsonObject o ? o["amount"]!.GetValue<decimal>() : r["cost"]!.GetValue<decimal>());
        Assert.True(usd > 0);

        var ledger = (await host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{id}/ledger"))!["ledger"]!;
        Assert.Equal(3000.15m, ledger["effort"]!.GetValue<decimal>());
        Assert.Equal(usd * 7.1m, ledger["spend"]!.GetValue<decimal>());
        Assert.Equal(3000.15m + usd * 7.1m, ledger["costToDate"]!.GetValue<decimal>());
        Assert.Equal(300000m - (3000.15m + usd * 7.1m), ledger["margin"]!.GetValue<decimal>());

        var html = await host.Admin.GetStringAsync($"api/pilots/{id}/report?format=html&lang=zh-Hant");
        Assert.DoesNotContain("<b>FAQ</b>", html);
        Assert.Contains("&lt;b&gt;FAQ&lt;/b&gt;", html);
        Assert.Contains("<svg", html);
        var json = (await host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{id}/report?format=json"))!;
        Assert.Equal("not_evaluated", json["acceptance"]!["items"]![0]!["status"]!.GetValue<string>());

        using var other = await host.Admin.PostAsJsonAsync("api/workspaces", new { name = "other" });
        using var otherKey = await host.Admin.PostAsJsonAsync("api/keys", new { name = "o", workspace = "other" });
        using var outsider = host.Client((await otherKey.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>());
        using var hidden = await outsider.GetAsync($"api/pilots/{id}");
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);

        using var signed = await host.Admin.PostAsJsonAsync($"api/pilots/{id}/signoff", new { side = "customer", name = "Li" });
        Assert.Equal(HttpStatusCode.Created, signed.StatusCode);
        var signoff = (await signed.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(Mulan.Pilots.PilotReport.Sha256(signoff["snapshot"]!.GetValue<string>()), signoff["sha256"]!.GetValue<string>());
        var later = (await host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{id}/report?format=json"))!;
        Assert.Equal(signoff["sha256"]!.GetValue<string>(), later["signoffs"]![0]!["sha256"]!.GetValue<string>());
    }
}
