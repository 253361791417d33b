using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Mulan.FakeVendor;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway;

/// <summary>What the client sees, and what the ledger holds, when the upstream or the storage fails.</summary>
public sealed class UpstreamFailureTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(configure: b =>
        {
            b.Configuration["Gateway:UpstreamTimeoutSeconds"] = "1";
            b.Configuration["Storage:BusyTimeoutMs"] = "100";
        });
        _client = StreamReading.AbortingClient(_host.BaseUrl, await _host.CreateKeyAsync());
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private async Task<(HttpResponseMessage Response, JsonNode Error)> SendAsync(string model, bool stream = false)
    {
        var response = await _client.SendAsync(StreamReading.Chat(model, stream));
        return (response, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!);
    }

    [Fact]
    public async Task Upstream_429_becomes_503_with_retry_after_and_costs_nothing()
    {
        var (response, error) = await SendAsync("chat-429");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("upstream_rate_limited", error["code"]!.GetValue<string>());
        Assert.Contains("429", error["message"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter!.Delta);
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.Equal("upstream_error", record["status"]!.GetValue<string>());
        Assert.Equal(0m, record["cost"]!["amount"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Upstream_500_becomes_502_with_the_reason()
    {
        var (response, error) = await SendAsync("chat-500", stream: true);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_error", error["code"]!.GetValue<string>());
        Assert.Contains("provider 'fake'", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Slow_first_byte_past_the_timeout_is_504()
    {
        _host.Vendor.Enqueue(new FakeFault.SlowFirstByte(TimeSpan.FromSeconds(3)));
        var (response, error) = await SendAsync("chat");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream_timeout", error["code"]!.GetValue<string>());
        Assert.Equal(504, Assert.Single(await _host.UsageRecordsAsync())["httpStatus"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_native_vendor_refusing_the_key_is_a_clear_502_that_names_the_provider()
    {
        var (response, error) = await SendAsync("chat-claude");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_auth_failed", error["code"]!.GetValue<string>());
        Assert.Contains("'claude'", error["message"]!.GetValue<string>());
        Assert.Equal("/v1/messages", Assert.Single(_host.Vendor.Requests).Path);
    }

    [Fact]
    public async Task Unreachable_upstream_is_502()
    {
        (await _host.Admin.PostAsJsonAsync("api/providers", new { name = "down", kind = "openai", baseUrl = $"http://127.0.0.1:{MulanProcess.FreePort()}/v1" })).EnsureSuccessStatusCode();
        (await _host.Admin.PostAsJsonAsync("api/models", new { name = "down-model", deployments = new[] { new { provider = "down", model = "x", price = new { currency = "USD", input = 1, output = 1 } } } })).EnsureSuccessStatusCode();
        var (response, error) = await SendAsync("down-model");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_unreachable", error["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Streams_are_relayed_as_they_arrive_not_buffered()
    {
        // 40 deltas 25 ms apart: the first must reach the client long before the upstream has finished.
        using var response = await _client.SendAsync(StreamReading.Chat("chat-slow", stream: true), HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);
        var clock = Stopwatch.StartNew();
        var arrivals = new List<double>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Contains("\"content\":\"", StringComparison.Ordinal) && !line.Contains("\"content\":\"\"", StringComparison.Ordinal))
            {
                arrivals.Add(clock.Elapsed.TotalMilliseconds);
            }
        }
        Assert.Equal(40, arrivals.Count);
        Assert.True(arrivals[^1] - arrivals[0] > 500, $"all deltas arrived within {arrivals[^1] - arrivals[0]:0} ms: buffered");
        var distinctArrivals = arrivals.Select(a => Math.Round(a / 10)).Distinct().Count();
        Assert.True(distinctArrivals > 20, $"deltas arrived in only {distinctArrivals} bursts");
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.True(record["timeToFirstTokenMs"]!.GetValue<double>() < record["latencyMs"]!.GetValue<double>() - 500);
    }

    [SqliteFact]
    public async Task Unavailable_ledger_fails_closed_with_503_and_recovers()
    {
        await using (var blocker = new SqliteConnection($"Data Source={Path.Combine(_host.DataDirectory, "mulan.db")};Pooling=False"))
        {
            await blocker.OpenAsync();
            await using var command = blocker.CreateCommand();
            command.CommandText = "BEGIN EXCLUSIVE;";
            await command.ExecuteNonQueryAsync();
            var (response, error) = await SendAsync("chat");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("ledger_unavailable", error["code"]!.GetValue<string>());
            command.CommandText = "ROLLBACK;";
            await command.ExecuteNonQueryAsync();
        }
        using var ok = await _client.SendAsync(StreamReading.Chat("chat", false));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Single(await _host.UsageRecordsAsync());
    }
}
