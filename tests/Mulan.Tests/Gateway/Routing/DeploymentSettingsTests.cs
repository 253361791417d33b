using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Routing;

/// <summary>Per-model and per-deployment settings (enabled, retries, timeouts), the request deadline, and failed
/// attempts a vendor may still bill.</summary>
public sealed class DeploymentSettingsTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [
            { "name": "primary", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "backup", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" }
          ],
          "models": [
            { "name": "first-disabled", "deployments": [
              { "provider": "primary", "model": "fake-chat+chunks=4", "enabled": false, "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "backup", "model": "fake-chat+chunks=4", "price": { "currency": "USD", "input": 10, "output": 20 } } ] },
            { "name": "all-disabled", "deployments": [
              { "provider": "primary", "model": "fake-chat", "enabled": false, "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "slow-first", "timeouts": { "firstByteSeconds": 0.5 }, "deployments": [
              { "provider": "primary", "model": "fake-chat+firstbyte=4000", "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "backup", "model": "fake-chat+chunks=4", "price": { "currency": "USD", "input": 10, "output": 20 } } ] },
            { "name": "long-stream", "deployments": [
              { "provider": "primary", "model": "fake-chat+chunks=40+gap=100", "timeouts": { "totalSeconds": 0.8 }, "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "retried", "maxRetries": 2, "deployments": [
              { "provider": "primary", "model": "fake-chat+chunks=4", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "never-retried", "maxRetries": 2, "deployments": [
              { "provider": "primary", "model": "fake-chat+chunks=4", "maxRetries": 0, "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "both-slow", "deployments": [
              { "provider": "primary", "model": "fake-chat+firstbyte=4000", "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "backup", "model": "fake-chat+firstbyte=4000", "price": { "currency": "USD", "input": 1, "output": 2 } } ] }
          ]
        }
        """;

    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(Catalog, b =>
        {
            b.Configuration["Gateway:TotalDeadlineSeconds"] = "2";
            b.Configuration["Gateway:RetryBaseDelayMs"] = "1";
        });
        _client = _host.Client(await _host.CreateKeyAsync());
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private Task<HttpResponseMessage> ChatAsync(string model, bool stream = false) =>
        _client.PostAsJsonAsync("v1/chat/completions", new { model, stream, messages = new[] { new { role = "user", content = "hi" } } });

    [Fact]
    public async Task A_disabled_deployment_is_never_called()
    {
        using var response = await ChatAsync("first-disabled");
        Assert.Equal("backup", response.Headers.GetValues("x-mulan-provider").Single());
        Assert.Single(_host.Vendor.Requests);
        using var none = await ChatAsync("all-disabled");
        Assert.Equal(HttpStatusCode.BadGateway, none.StatusCode);
        Assert.Single(_host.Vendor.Requests);
    }

    [Fact]
    public async Task A_first_byte_timeout_falls_back_and_the_attempt_the_vendor_may_bill_is_listed_not_charged()
    {
        var watch = Stopwatch.StartNew();
        using var response = await ChatAsync("slow-first");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("backup", response.Headers.GetValues("x-mulan-provider").Single());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3.5), $"took {watch.Elapsed}");
        var record = Assert.Single(await _host.WaitForRecordsAsync(1));
        Assert.Equal(2, record["attempts"]!.GetValue<int>());
        var unserved = Assert.Single(record["unserved"]!.AsArray())!;
        Assert.Equal("primary", unserved["provider"]!.GetValue<string>());
        Assert.Equal("timeout", unserved["reason"]!.GetValue<string>());
        // The vendor saw the request and billed its prompt when Mulan left; Mulan's estimate lists the same input.
        var abandoned = Assert.Single(_host.Vendor.Ledger.Bills, b => b.Outcome == BillOutcome.ClientAborted);
        Assert.Equal(abandoned.PromptTokens, unserved["inputTokens"]!.GetValue<int>());
        Assert.Equal(abandoned.PromptTokens * 1m / 1_000_000, unserved["cost"]!["amount"]!.GetValue<decimal>());
        // Charged once, at the backup's price.
        var served = Assert.Single(_host.Vendor.Ledger.Bills, b => b.Outcome == BillOutcome.Completed);
        Assert.Equal((served.PromptTokens * 10m + served.CompletionTokens * 20m) / 1_000_000, record["cost"]!["amount"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_deployments_total_timeout_ends_a_long_stream_with_a_clean_error_event()
    {
        using var response = await ChatAsync("long-stream", stream: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("[DONE]", body);
        Assert.Contains("upstream_stream_error", body);
        var record = Assert.Single(await _host.WaitForRecordsAsync(1));
        Assert.Equal("upstream_error", record["status"]!.GetValue<string>());
        Assert.InRange(record["outputTokens"]!.GetValue<int>(), 1, 39);
    }

    [Fact]
    public async Task Model_level_retries_apply_and_a_deployment_can_override_them()
    {
        _host.Vendor.Enqueue(new FakeFault.Status(500));
        _host.Vendor.Enqueue(new FakeFault.Status(500));
        using (var response = await ChatAsync("retried"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(3, _host.Vendor.Requests.Count);
        Assert.Equal(3, (await _host.WaitForRecordsAsync(1))[0]["attempts"]!.GetValue<int>());

        _host.Vendor.Enqueue(new FakeFault.Status(500));
        using (var response = await ChatAsync("never-retried"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }
        Assert.Equal(4, _host.Vendor.Requests.Count);
    }

    [Fact]
    public async Task The_request_deadline_bounds_all_attempts()
    {
        var watch = Stopwatch.StartNew();
        using var response = await ChatAsync("both-slow");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3.5), $"took {watch.Elapsed}");
        var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal("upstream_timeout", error["code"]!.GetValue<string>());
        Assert.Contains("TotalDeadlineSeconds", error["message"]!.GetValue<string>());
        var record = Assert.Single(await _host.WaitForRecordsAsync(1));
        Assert.Equal(1, record["attempts"]!.GetValue<int>());
        Assert.Single(record["unserved"]!.AsArray());
    }

    [Theory]
    [InlineData("""{"name":"m","maxRetries":9,"deployments":[{"provider":"primary","model":"x","price":{"currency":"USD","input":1,"output":1}}]}""", "model.maxRetries")]
    [InlineData("""{"name":"m","timeouts":{"firstByteSeconds":0},"deployments":[{"provider":"primary","model":"x","price":{"currency":"USD","input":1,"output":1}}]}""", "model.timeouts.firstByteSeconds")]
    [InlineData("""{"name":"m","deployments":[{"provider":"primary","model":"x","timeouts":{"connectSeconds":500},"price":{"currency":"USD","input":1,"output":1}}]}""", "model.deployments[0].timeouts.connectSeconds")]
    [InlineData("""{"name":"m","deployments":[{"provider":"primary","model":"x","maxRetries":-1,"price":{"currency":"USD","input":1,"output":1}}]}""", "model.deployments[0].maxRetries")]
    public async Task Bad_settings_are_refused_naming_the_setting(string body, string field)
    {
        using var response = await _host.Admin.PostAsync("api/models", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Contains(field, errors.Select(e => e.Key));
        using var list = await _host.Admin.GetAsync("api/models");
        Assert.DoesNotContain("\"name\":\"m\"", await list.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Settings_are_shown_with_the_model()
    {
        var models = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/models"))!["models"]!.AsArray();
        var slow = models.Single(m => m!["name"]!.GetValue<string>() == "slow-first")!["deployments"]![0]!;
        Assert.Equal(0.5, slow["timeouts"]!["firstByteSeconds"]!.GetValue<double>());
        Assert.True(slow["enabled"]!.GetValue<bool>());
        var disabled = models.Single(m => m!["name"]!.GetValue<string>() == "first-disabled")!["deployments"]![0]!;
        Assert.False(disabled["enabled"]!.GetValue<bool>());
    }
}
