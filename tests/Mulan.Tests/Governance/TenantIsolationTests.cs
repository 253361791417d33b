using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Governance;

/// <summary>A workspace's keys read their own usage, budgets and audit entries, and never another workspace's.</summary>
public sealed class TenantIsolationTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _keyA = null!;
    private string _keyB = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "alpha", rpm = 100 })).EnsureSuccessStatusCode();
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "beta", budget = new { amount = 5, currency = "USD", period = "month" } })).EnsureSuccessStatusCode();
        _keyA = await _host.CreateKeyAsync(new { name = "a", workspace = "alpha", budget = new { amount = 1, currency = "USD", period = "day" } });
        _keyB = await _host.CreateKeyAsync(new { name = "b", workspace = "beta" });
        foreach (var key in new[] { _keyA, _keyB })
        {
            using var client = _host.Client(key);
            (await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } })).EnsureSuccessStatusCode();
        }
        await _host.WaitForRecordsAsync(2);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("usage")]
    [InlineData("audit")]
    [InlineData("limits")]
    public async Task A_key_reads_its_own_workspace_and_gets_404_for_another(string what)
    {
        using var a = _host.Client(_keyA);
        using var own = await a.GetAsync($"api/workspaces/alpha/{what}");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        var body = await own.Content.ReadAsStringAsync();
        Assert.DoesNotContain(_keyA, body);
        Assert.DoesNotContain(_keyB, body);

        foreach (var other in new[] { "beta", "no-such-workspace" })
        {
            using var theirs = await a.GetAsync($"api/workspaces/{other}/{what}");
            Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
            Assert.DoesNotContain("budget", await theirs.Content.ReadAsStringAsync());
        }
        // The workspace's id is as good as its name, for the owner and for no one else.
        var betaId = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/workspaces"))!["workspaces"]!.AsArray()
            .Single(w => w!["name"]!.GetValue<string>() == "beta")!["id"]!.GetValue<string>();
        using var byId = await a.GetAsync($"api/workspaces/{betaId}/{what}");
        Assert.Equal(HttpStatusCode.NotFound, byId.StatusCode);
        using var admin = await _host.Admin.GetAsync($"api/workspaces/{betaId}/{what}");
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task A_workspaces_usage_holds_only_its_own_records_and_its_limits_its_own_keys()
    {
        using var a = _host.Client(_keyA);
        var usage = (await a.GetFromJsonAsync<JsonObject>("api/workspaces/alpha/usage"))!;
        var record = Assert.Single(usage["records"]!.AsArray())!;
        var alphaId = record["workspace"]!.GetValue<string>();
        Assert.Equal(1, usage["totals"]!["requests"]!.GetValue<int>());

        var limits = (await a.GetFromJsonAsync<JsonObject>("api/workspaces/alpha/limits"))!;
        Assert.Equal(alphaId, limits["workspace"]!["id"]!.GetValue<string>());
        Assert.Equal(100, limits["workspace"]!["rpm"]!.GetValue<int>());
        var key = Assert.Single(limits["keys"]!.AsArray())!;
        Assert.Equal("a", key["name"]!.GetValue<string>());
        Assert.Equal(1m, key["budget"]!["amount"]!.GetValue<decimal>());
        Assert.Null(key["key"]);

        var audit = (await a.GetFromJsonAsync<JsonObject>("api/workspaces/alpha/audit"))!["entries"]!.AsArray();
        Assert.NotEmpty(audit);
        Assert.All(audit, e => Assert.Equal(alphaId, e!["workspace"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Without_a_key_it_is_401_and_the_admin_only_listings_stay_admin_only()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.BaseUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/workspaces/alpha/usage")).StatusCode);
        using var a = _host.Client(_keyA);
        Assert.Equal(HttpStatusCode.Unauthorized, (await a.GetAsync("api/usage")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await a.GetAsync("api/audit")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await a.PutAsJsonAsync("api/workspaces/alpha/limits", new { rpm = 1 })).StatusCode);
    }
}
