using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Governance;

/// <summary>A budget and rate limits shared by every key of a workspace, on top of each key's own.</summary>
public sealed class WorkspaceLimitsTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [ { "name": "fake", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" } ],
          "models": [
            { "name": "pricey", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=12", "price": { "currency": "USD", "input": 100, "output": 200 } } ] }
          ]
        }
        """;

    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync(Catalog);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static Task<HttpResponseMessage> ChatAsync(HttpClient client, int i) => client.PostAsJsonAsync("v1/chat/completions",
        new { model = "pricey", max_tokens = 12, messages = new[] { new { role = "user", content = $"request {i}" } } });

    [Fact]
    public async Task Two_keys_share_their_workspaces_budget_and_another_workspace_is_untouched()
    {
        using (var created = await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "team", budget = new { amount = 0.01m, currency = "USD", period = "month" } }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal(0.01m, (await created.Content.ReadFromJsonAsync<JsonObject>())!["budget"]!["amount"]!.GetValue<decimal>());
        }
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "elsewhere" })).EnsureSuccessStatusCode();
        using var alice = _host.Client(await _host.CreateKeyAsync(new { name = "alice", workspace = "team" }));
        using var bob = _host.Client(await _host.CreateKeyAsync(new { name = "bob", workspace = "team" }));
        using var carol = _host.Client(await _host.CreateKeyAsync(new { name = "carol", workspace = "elsewhere" }));

        // About 0.0036 USD a request: the team's 0.01 holds two, whoever sends them.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await ChatAsync(i % 2 == 0 ? alice : bob, i);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
                Assert.Equal("budget_exceeded", error["code"]!.GetValue<string>());
                Assert.Contains("workspace", error["message"]!.GetValue<string>());
            }
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        using (var other = await ChatAsync(carol, 9))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        // Raising the budget lets the team go on, and the change is audited.
        using (var raised = await _host.Admin.PutAsJsonAsync("api/workspaces/team/limits", new { budget = new { amount = 1m, currency = "USD", period = "month" } }))
        {
            Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
        }
        using (var again = await ChatAsync(bob, 5))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }
        var audit = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/audit?action=workspace.limits_changed"))!["entries"]!.AsArray();
        var entry = Assert.Single(audit)!;
        Assert.Equal(0.01m, entry["details"]!["from"]!["budget"]!["amount"]!.GetValue<decimal>());
        Assert.Equal(1m, entry["details"]!["to"]!["budget"]!["amount"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_workspace_requests_per_minute_limit_counts_every_key_of_the_workspace()
    {
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "rpm-team", rpm = 3 })).EnsureSuccessStatusCode();
        using var one = _host.Client(await _host.CreateKeyAsync(new { name = "one", workspace = "rpm-team" }));
        using var two = _host.Client(await _host.CreateKeyAsync(new { name = "two", workspace = "rpm-team" }));
        var intoMinute = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % 60_000;
        if (intoMinute > 55_000)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(60_000 - intoMinute + 100));
        }
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await ChatAsync(i % 2 == 0 ? one : two, i);
            statuses.Add(response.StatusCode);
        }
        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Theory]
    [InlineData("""{"rpm":0}""", "rpm")]
    [InlineData("""{"budget":{"amount":5,"currency":"EUR","period":"day"}}""", "budget.currency")]
    [InlineData("""{"budget":{"amount":5,"currency":"USD","period":"week"}}""", "budget.period")]
    public async Task Bad_limits_are_refused_naming_the_field_and_change_nothing(string body, string field)
    {
        using var response = await _host.Admin.PutAsync("api/workspaces/default/limits", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
        var workspaces = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/workspaces"))!["workspaces"]!.AsArray();
        var def = workspaces.Single(w => w!["name"]!.GetValue<string>() == "default")!;
        Assert.Null(def["rpm"]);
        Assert.Null(def["budget"]);
    }

    [Fact]
    public async Task Limits_of_an_unknown_workspace_are_404()
    {
        using var response = await _host.Admin.PutAsJsonAsync("api/workspaces/nowhere/limits", new { rpm = 5 });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
