using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Governance;

/// <summary>The exact response cache of an opted-in model route: hits, misses, TTL, workspaces kept apart.</summary>
public sealed class ResponseCacheTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [ { "name": "fake", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" } ],
          "models": [
            { "name": "cached", "cache": { "ttlSeconds": 2 }, "deployments": [
              { "provider": "fake", "model": "fake-chat+chunks=5", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "uncached", "deployments": [
              { "provider": "fake", "model": "fake-chat+chunks=5", "price": { "currency": "USD", "input": 1, "output": 2 } } ] }
          ]
        }
        """;

    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(Catalog);
        _client = _host.Client(await _host.CreateKeyAsync());
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private static async Task<(HttpResponseMessage Response, string Body)> PostAsync(HttpClient client, string json)
    {
        var response = await client.PostAsync("v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));
        return (response, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_identical_request_is_answered_from_the_cache_at_no_cost_until_its_ttl_passes()
    {
        var (first, firstBody) = await PostAsync(_client, """{"model":"cached","temperature":0,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal("miss", first.Headers.GetValues("x-mulan-cache").Single());
        // The same request with its keys in another order is the same request.
        var (second, secondBody) = await PostAsync(_client, """{"messages":[{"content":"hi","role":"user"}],"temperature":0,"model":"cached"}""");
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("hit", second.Headers.GetValues("x-mulan-cache").Single());
        Assert.Equal(firstBody, secondBody);
        Assert.Single(_host.Vendor.Ledger.Bills);

        var records = await _host.WaitForRecordsAsync(2);
        var hit = records.Single(r => r["status"]!.GetValue<string>() == "cached");
        var miss = records.Single(r => r["status"]!.GetValue<string>() == "ok");
        Assert.Equal(0m, hit["cost"]!["amount"]!.GetValue<decimal>());
        Assert.Equal(0, hit["attempts"]!.GetValue<int>());
        Assert.Equal(miss["outputTokens"]!.GetValue<int>(), hit["outputTokens"]!.GetValue<int>());
        Assert.True(miss["cost"]!["amount"]!.GetValue<decimal>() > 0);

        // A different request misses.
        var (other, _) = await PostAsync(_client, """{"model":"cached","temperature":0,"messages":[{"role":"user","content":"hello"}]}""");
        Assert.Equal("miss", other.Headers.GetValues("x-mulan-cache").Single());

        await Task.Delay(TimeSpan.FromSeconds(2.3));
        var (expired, _) = await PostAsync(_client, """{"model":"cached","temperature":0,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal("miss", expired.Headers.GetValues("x-mulan-cache").Single());
        Assert.Equal(3, _host.Vendor.Ledger.Bills.Count);
    }

    [Fact]
    public async Task Answers_are_never_shared_across_workspaces()
    {
        const string request = """{"model":"cached","messages":[{"role":"user","content":"secret plans"}]}""";
        var (mine, _) = await PostAsync(_client, request);
        Assert.Equal("miss", mine.Headers.GetValues("x-mulan-cache").Single());
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "other-team" })).EnsureSuccessStatusCode();
        using var other = _host.Client(await _host.CreateKeyAsync(new { name = "other", workspace = "other-team" }));
        var (theirs, _) = await PostAsync(other, request);
        Assert.Equal("miss", theirs.Headers.GetValues("x-mulan-cache").Single());
        Assert.Equal(2, _host.Vendor.Ledger.Bills.Count);
        // Within the first workspace, another key gets the hit.
        using var colleague = _host.Client(await _host.CreateKeyAsync(new { name = "colleague" }));
        var (again, _) = await PostAsync(colleague, request);
        Assert.Equal("hit", again.Headers.GetValues("x-mulan-cache").Single());
    }

    [Fact]
    public async Task Streams_and_routes_without_a_cache_always_go_to_the_vendor()
    {
        for (var i = 0; i < 2; i++)
        {
            var (streamed, _) = await PostAsync(_client, """{"model":"cached","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
            Assert.False(streamed.Headers.Contains("x-mulan-cache"));
            var (plain, _) = await PostAsync(_client, """{"model":"uncached","messages":[{"role":"user","content":"hi"}]}""");
            Assert.False(plain.Headers.Contains("x-mulan-cache"));
        }
        Assert.Equal(4, _host.Vendor.Ledger.Bills.Count);
    }

    [Theory]
    [InlineData("""{"name":"m","cache":{},"deployments":[{"provider":"fake","model":"x","price":{"currency":"USD","input":1,"output":1}}]}""")]
    [InlineData("""{"name":"m","cache":{"ttlSeconds":0},"deployments":[{"provider":"fake","model":"x","price":{"currency":"USD","input":1,"output":1}}]}""")]
    public async Task A_cache_without_a_valid_ttl_is_refused(string body)
    {
        using var response = await _host.Admin.PostAsync("api/models", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("model.cache.ttlSeconds", (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
    }
}
