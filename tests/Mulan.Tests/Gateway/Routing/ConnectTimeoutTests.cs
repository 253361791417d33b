using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Routing;

/// <summary>A deployment's connect timeout, against a host that never completes a TCP handshake.</summary>
public sealed class ConnectTimeoutTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [
            { "name": "blackhole", "kind": "openai", "baseUrl": "http://127.0.0.1:{PORT}/v1", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "backup", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" }
          ],
          "models": [
            { "name": "unanswered-first", "deployments": [
              { "provider": "blackhole", "model": "fake-chat", "timeouts": { "connectSeconds": 0.5 }, "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "backup", "model": "fake-chat+chunks=4", "price": { "currency": "USD", "input": 10, "output": 20 } } ] }
          ]
        }
        """;

    // A listener with a backlog of zero that never accepts: once one connection waits in its queue, the kernel drops
    // further SYNs, so a connect neither succeeds nor fails, as with a firewalled or dead host.
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _filler = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private MulanHost _host = null!;

    public async Task InitializeAsync()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(0);
        await _filler.ConnectAsync(_listener.LocalEndPoint!);
        var port = ((IPEndPoint)_listener.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _host = await MulanHost.StartAsync(Catalog.Replace("{PORT}", port, StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _filler.Dispose();
        _listener.Dispose();
    }

    [Fact]
    public async Task A_connect_that_never_completes_falls_back_after_the_deployments_connect_timeout_and_is_not_billable()
    {
        using var client = _host.Client(await _host.CreateKeyAsync());
        var watch = Stopwatch.StartNew();
        using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "unanswered-first", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("backup", response.Headers.GetValues("x-mulan-provider").Single());
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.45), TimeSpan.FromSeconds(5));
        var record = Assert.Single(await _host.WaitForRecordsAsync(1));
        Assert.Equal(2, record["attempts"]!.GetValue<int>());
        Assert.Empty(record["unserved"]!.AsArray()); // the request never reached the host
        Assert.Contains("provider blackhole failed (unreachable)", _host.Logs.Text, StringComparison.Ordinal);
    }
}
