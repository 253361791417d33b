using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Routing;

/// <summary>Fallback across the deployments of one model, and the circuit breaker that moves a failing one last.</summary>
public sealed class FallbackTests : IAsyncLifetime
{
    // "primary" and "backup" are the same fake vendor under two provider names, so x-mulan-provider tells them apart;
    // "dead" points at a port nobody listens on.
    private const string Catalog = """
        {
          "providers": [
            { "name": "primary", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "backup", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "dead", "kind": "openai", "baseUrl": "http://127.0.0.1:9/v1", "apiKey": "env:FAKE_VENDOR_KEY" }
          ],
          "models": [
            { "name": "flaky", "deployments": [
              { "provider": "primary", "model": "fake-chat+chunks=4", "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "backup", "model": "fake-chat+chunks=4", "price": { "currency": "USD", "input": 10, "output": 20 } } ] },
            { "name": "unreachable-first", "deployments": [
              { "provider": "dead", "model": "fake-chat", "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "backup", "model": "fake-chat+chunks=4", "price": { "currency": "USD", "input": 10, "output": 20 } } ] },
            { "name": "bad-request", "deployments": [
              { "provider": "primary", "model": "fake-chat+fail=400", "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "backup", "model": "fake-chat", "price": { "currency": "USD", "input": 10, "output": 20 } } ] },
            { "name": "all-down", "deployments": [
              { "provider": "primary", "model": "fake-chat+fail=503", "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "backup", "model": "fake-chat+fail=502", "price": { "currency": "USD", "input": 10, "output": 20 } } ] }
          ]
        }
        """;

    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(Catalog, b => b.Configuration["Gateway:CooldownSeconds"] = "60");
        _client = _host.Client(await _host.CreateKeyAsync());
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private Task<HttpResponseMessage> ChatAsync(string model, bool stream = false) =>
        _client.PostAsJsonAsync("v1/chat/completions", new { model, stream, messages = new[] { new { role = "user", content = "hi" } } });

    [Theory]
    [InlineData(500)]
    [InlineData(429)]
    [InlineData(503)]
    public async Task A_failing_first_deployment_falls_back_and_the_request_is_charged_once_at_the_second(int status)
    {
        _host.Vendor.Enqueue(new FakeFault.Status(status, status == 429 ? 1 : null));
        using var response = await ChatAsync("flaky");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("backup", response.Headers.GetValues("x-mulan-provider").Single());

        var record = Assert.Single(await _host.WaitForRecordsAsync(1));
        Assert.Equal("ok", record["status"]!.GetValue<string>());
        Assert.Equal("backup", record["provider"]!.GetValue<string>());
        // Priced at the backup's prices (10/20 per million), not the primary's.
        var expected = ((record["inputTokens"]!.GetValue<long>() * 10m) + (record["outputTokens"]!.GetValue<long>() * 20m)) / 1_000_000m;
        Assert.True(expected == record["cost"]!["amount"]!.GetValue<decimal>(), $"expected {expected}, got {record.ToJsonString()}");
        Assert.Equal(2, _host.Vendor.Ledger.Bills.Count); // the failed attempt and the served one, nothing more
    }

    [Fact]
    public async Task A_stream_whose_first_deployment_fails_before_the_first_byte_falls_back()
    {
        _host.Vendor.Enqueue(new FakeFault.Status(500));
        using var response = await ChatAsync("flaky", stream: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("backup", response.Headers.GetValues("x-mulan-provider").Single());
        var body = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("data: [DONE]\n\n", body);
        Assert.Equal("ok", Assert.Single(await _host.WaitForRecordsAsync(1))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Refused_connections_fall_back_and_the_dead_deployment_is_cooled_down_then_tried_last()
    {
        for (var i = 0; i < 4; i++)
        {
            using var response = await ChatAsync("unreachable-first");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("backup", response.Headers.GetValues("x-mulan-provider").Single());
        }
        // Three refusals opened the breaker: the fourth request went to the backup first and never tried "dead".
        Assert.Equal(3, _host.Logs.Text.Split('\n').Count(l => l.Contains("provider dead failed, falling back", StringComparison.Ordinal)));

        // Operators see it.
        var deployments = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/deployments"))!["deployments"]!.AsArray()
            .Where(d => d!["model"]!.GetValue<string>() == "unreachable-first").ToList();
        Assert.Equal("cooling_down", deployments[0]!["status"]!.GetValue<string>());
        Assert.Equal("dead", deployments[0]!["provider"]!.GetValue<string>());
        Assert.Equal(3, deployments[0]!["consecutiveFailures"]!.GetValue<int>());
        Assert.True(deployments[0]!["cooldownUntil"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddSeconds(30));
        Assert.Equal(1.0, deployments[0]!["errorRate"]!.GetValue<double>(), 3);
        Assert.Equal(3, deployments[0]!["errors"]!.GetValue<long>());
        Assert.Equal("healthy", deployments[1]!["status"]!.GetValue<string>());
        Assert.Equal(0.0, deployments[1]!["errorRate"]!.GetValue<double>());
        Assert.Equal(4, deployments[1]!["calls"]!.GetValue<long>());
        Assert.True(deployments[1]!["latencyMs"]!.GetValue<double>() > 0);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.GetAsync("api/deployments")).StatusCode);
    }

    [Fact]
    public async Task A_refusal_that_another_vendor_would_repeat_is_not_retried()
    {
        using var response = await ChatAsync("bad-request");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Single(_host.Vendor.Ledger.Bills);
        Assert.Equal("upstream_error", Assert.Single(await _host.WaitForRecordsAsync(1))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task When_every_deployment_fails_the_last_failure_is_answered_and_attempts_stay_bounded()
    {
        using var response = await ChatAsync("all-down");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(2, _host.Vendor.Ledger.Bills.Count);
        var record = Assert.Single(await _host.WaitForRecordsAsync(1));
        Assert.Equal("upstream_error", record["status"]!.GetValue<string>());
        Assert.Equal("backup", record["provider"]!.GetValue<string>());
    }
}
