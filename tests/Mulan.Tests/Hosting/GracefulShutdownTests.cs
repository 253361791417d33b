using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Tests.Support;
using Xunit;

namespace Mulan.Tests.Hosting;

/// <summary>SIGTERM to a real <c>mulan serve</c> process while a slow stream from the fake vendor is in flight.</summary>
public sealed class GracefulShutdownTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mulan-drain-").FullName;
    private FakeVendorServer _vendor = null!;

    public async Task InitializeAsync() => _vendor = await FakeVendorServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _vendor.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static readonly string Catalog = MulanHost.DefaultCatalog.Replace(
        """{ "name": "chat", "deployments":""",
        """
        { "name": "chat-3s", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=60+gap=50", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
        { "name": "chat-20s", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=200+gap=100", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
        { "name": "chat", "deployments":
        """, StringComparison.Ordinal);

    private async Task<(MulanProcess Server, Uri Url, string[] Args, Dictionary<string, string?> Env)> StartAsync(string name, int? drainSeconds = null)
    {
        var config = Path.Combine(_dir, name + ".json");
        await File.WriteAllTextAsync(config, Catalog.Replace("{VENDOR}", _vendor.BaseUrl.ToString(), StringComparison.Ordinal));
        var url = new Uri($"http://127.0.0.1:{MulanProcess.FreePort()}/");
        var env = new Dictionary<string, string?> { ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey, ["FAKE_VENDOR_KEY"] = _vendor.ApiKey };
        if (drainSeconds is { } d)
        {
            env["MULAN_GATEWAY__SHUTDOWNDRAINSECONDS"] = d.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        string[] args = ["serve", "--data", Path.Combine(_dir, name), "--config", config, "--urls", url.ToString().TrimEnd('/')];
        var server = MulanProcess.Start(args, env);
        await server.WaitHealthyAsync(url);
        return (server, url, args, env);
    }

    private static async Task<string> KeyAsync(Uri url)
    {
        using var admin = new HttpClient { BaseAddress = url };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", MulanHost.AdminKey);
        var created = await (await admin.PostAsJsonAsync("api/keys", new { name = "drain" })).Content.ReadFromJsonAsync<JsonObject>();
        return created!["key"]!.GetValue<string>();
    }

    /// <summary>Reads the stream's data lines until the first content delta.</summary>
    private static async Task<StreamReader> FirstDeltaAsync(HttpResponseMessage response, List<string> events)
    {
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(line[6..]);
                if (line.Contains("\"content\":\"", StringComparison.Ordinal) && !line.Contains("\"content\":\"\"", StringComparison.Ordinal))
                {
                    return reader;
                }
            }
        }
        throw new InvalidOperationException("the stream ended before any content");
    }

    private static async Task<List<string>> RestOfAsync(StreamReader reader, List<string> events)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    events.Add(line[6..]);
                }
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // the connection was closed under the stream
        }
        return events;
    }

    private static async Task<List<JsonObject>> RecordsAfterRestartAsync(string[] args, Dictionary<string, string?> env, Uri url, string requestId)
    {
        await using var again = MulanProcess.Start(args, env);
        await again.WaitHealthyAsync(url);
        using var admin = new HttpClient { BaseAddress = url };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", MulanHost.AdminKey);
        var usage = await admin.GetFromJsonAsync<JsonObject>("api/usage?pageSize=1000");
        return [.. usage!["records"]!.AsArray().OfType<JsonObject>().Where(r => r["requestId"]!.GetValue<string>() == requestId)];
    }

    [Fact]
    public async Task A_stream_in_flight_at_SIGTERM_finishes_and_is_recorded_once_while_new_connections_are_refused()
    {
        var (server, url, args, env) = await StartAsync("finish");
        await using (server)
        {
            using var client = StreamReading.AbortingClient(url, await KeyAsync(url));
            using var response = await client.SendAsync(StreamReading.Chat("chat-3s", stream: true), HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            var requestId = response.Headers.GetValues("x-mulan-request-id").Single();
            var events = new List<string>();
            using var reader = await FirstDeltaAsync(response, events);

            server.Terminate();
            // Stopped accepting: a new connection is refused while the stream goes on.
            var refused = false;
            var deadline = DateTime.UtcNow.AddSeconds(2.5);
            while (!refused && DateTime.UtcNow < deadline)
            {
                using var fresh = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(1) };
                try
                {
                    using var probe = await fresh.GetAsync("healthz");
                    await Task.Delay(50);
                }
                catch (HttpRequestException)
                {
                    refused = true;
                }
            }
            Assert.True(refused, "the server kept accepting connections after SIGTERM");

            await RestOfAsync(reader, events);
            Assert.Equal("[DONE]", events[^1]);
            Assert.Equal(60, events.Count(e => e.Contains("\"content\":\"", StringComparison.Ordinal) && !e.Contains("\"content\":\"\"", StringComparison.Ordinal)));
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await server.WaitForExitAsync(exit.Token);
            Assert.Equal(0, server.ExitCode);

            var records = await RecordsAfterRestartAsync(args, env, url, requestId);
            var record = Assert.Single(records);
            Assert.Equal("ok", record["status"]!.GetValue<string>());
            Assert.True(record["outputTokens"]!.GetValue<long>() >= 60);
        }
    }

    [Fact]
    public async Task A_stream_longer_than_the_drain_time_is_closed_and_still_recorded_once()
    {
        var (server, url, args, env) = await StartAsync("cut", drainSeconds: 1);
        await using (server)
        {
            using var client = StreamReading.AbortingClient(url, await KeyAsync(url));
            using var response = await client.SendAsync(StreamReading.Chat("chat-20s", stream: true), HttpCompletionOption.ResponseHeadersRead);
            var requestId = response.Headers.GetValues("x-mulan-request-id").Single();
            var events = new List<string>();
            using var reader = await FirstDeltaAsync(response, events);
            var clock = Stopwatch.StartNew();
            server.Terminate();
            await RestOfAsync(reader, events);
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await server.WaitForExitAsync(exit.Token);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"the server took {clock.Elapsed} to stop with a 1 s drain");
            Assert.NotEqual("[DONE]", events[^1]);

            var records = await RecordsAfterRestartAsync(args, env, url, requestId);
            var record = Assert.Single(records);
            Assert.NotEqual("ok", record["status"]!.GetValue<string>());
            Assert.True(record["outputTokens"]!.GetValue<long>() >= 1);
        }
    }
}
