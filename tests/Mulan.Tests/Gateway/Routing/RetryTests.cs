using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Mulan.FakeVendor;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Routing;

/// <summary>Retries of the same deployment: backoff, the vendor's Retry-After, and a bound.</summary>
public sealed class RetryTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(configure: b =>
        {
            b.Configuration["Gateway:RetriesPerDeployment"] = "2";
            b.Configuration["Gateway:RetryBaseDelayMs"] = "10";
            b.Configuration["Gateway:FailuresBeforeCooldown"] = "100";
        });
        _client = _host.Client(await _host.CreateKeyAsync());
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private Task<HttpResponseMessage> ChatAsync() =>
        _client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } });

    [Fact]
    public async Task Transient_failures_are_retried_and_the_request_is_recorded_once()
    {
        _host.Vendor.Enqueue(new FakeFault.Status(500));
        _host.Vendor.Enqueue(new FakeFault.Status(503));
        using var response = await ChatAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, _host.Vendor.Ledger.Bills.Count);
        Assert.Equal("ok", Assert.Single(await _host.WaitForRecordsAsync(1))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_vendors_Retry_After_is_waited_for()
    {
        _host.Vendor.Enqueue(new FakeFault.Status(429, RetryAfterSeconds: 1));
        var clock = Stopwatch.StartNew();
        using var response = await ChatAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.95), $"retried after {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task Retries_are_bounded_and_the_last_failure_is_answered()
    {
        for (var i = 0; i < 4; i++)
        {
            _host.Vendor.Enqueue(new FakeFault.Status(500));
        }
        using var response = await ChatAsync();
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(3, _host.Vendor.Ledger.Bills.Count); // one try and two retries
        Assert.Equal("upstream_error", Assert.Single(await _host.WaitForRecordsAsync(1))["status"]!.GetValue<string>());
    }
}
