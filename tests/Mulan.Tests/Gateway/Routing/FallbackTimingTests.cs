using System.Net;
using System.Net.Http.Json;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Routing;

/// <summary>Timeouts fall back; a cooled-down deployment is probed again once its cooldown ends (half-open).</summary>
public sealed class FallbackTimingTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [
            { "name": "slow", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "backup", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" }
          ],
          "models": [
            { "name": "slow-first", "deployments": [
              { "provider": "slow", "model": "fake-chat+firstbyte=3000", "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "backup", "model": "fake-chat+chunks=4", "price": { "currency": "USD", "input": 10, "output": 20 } } ] }
          ]
        }
        """;

    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync(Catalog, b =>
    {
        b.Configuration["Gateway:UpstreamTimeoutSeconds"] = "1";
        b.Configuration["Gateway:FailuresBeforeCooldown"] = "1";
        b.Configuration["Gateway:CooldownSeconds"] = "2";
    });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private int TimedOut() => _host.Logs.Text.Split('\n').Count(l => l.Contains("provider slow failed (timeout)", StringComparison.Ordinal));

    [Fact]
    public async Task A_deployment_that_times_out_falls_back_cools_down_and_is_probed_after_the_cooldown()
    {
        using var client = _host.Client(await _host.CreateKeyAsync());
        async Task<string> AskAsync()
        {
            using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "slow-first", messages = new[] { new { role = "user", content = "hi" } } });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Headers.GetValues("x-mulan-provider").Single();
        }

        Assert.Equal("backup", await AskAsync());
        Assert.Equal(1, TimedOut());
        // Cooling down: the backup goes first, the slow one is not tried.
        Assert.Equal("backup", await AskAsync());
        Assert.Equal(1, TimedOut());
        // After the cooldown the next request probes it again (and it is still slow).
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        Assert.Equal("backup", await AskAsync());
        Assert.Equal(2, TimedOut());
        Assert.Equal(3, (await _host.WaitForRecordsAsync(3)).Count(r => r["provider"]!.GetValue<string>() == "backup"));
    }
}
