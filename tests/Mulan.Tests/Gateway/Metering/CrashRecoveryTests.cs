using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Metering;

/// <summary>quality.md §6 "crash": <c>kill -9</c> under load; after a restart every request whose response
/// completed has exactly one usage record, and no request has two.</summary>
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mulan-crash-").FullName;
    private FakeVendorServer _vendor = null!;

    public async Task InitializeAsync() => _vendor = await FakeVendorServer.StartAsync(new FakeVendorOptions { RecordRequests = false });

    public async Task DisposeAsync()
    {
        await _vendor.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData("Full")]
    [InlineData("Normal")]
    public async Task Kill_9_during_load_loses_no_completed_request_and_duplicates_none(string ledgerSync)
    {
        var config = Path.Combine(_dir, "config.json");
        await File.WriteAllTextAsync(config, MulanHost.DefaultCatalog.Replace("{VENDOR}", _vendor.BaseUrl.ToString(), StringComparison.Ordinal));
        var url = $"http://127.0.0.1:{MulanProcess.FreePort()}/";
        var data = Path.Combine(_dir, ledgerSync);
        var env = new Dictionary<string, string?>
        {
            ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey, ["FAKE_VENDOR_KEY"] = _vendor.ApiKey, ["MULAN_STORAGE__LEDGERSYNC"] = ledgerSync,
        };
        string[] args = ["serve", "--data", data, "--config", config, "--urls", url.TrimEnd('/')];
        var completed = new ConcurrentBag<string>();
        using var admin = new HttpClient { BaseAddress = new Uri(url) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", MulanHost.AdminKey);

        await using (var server = MulanProcess.Start(args, env))
        {
            await server.WaitHealthyAsync(new Uri(url));
            var created = await (await admin.PostAsJsonAsync("api/keys", new { name = "load" })).Content.ReadFromJsonAsync<JsonObject>();
            using var client = StreamReading.AbortingClient(new Uri(url), created!["key"]!.GetValue<string>());
            using var stop = new CancellationTokenSource();
            var workers = Enumerable.Range(0, 12).Select(w => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested && i < 10_000; i++)
                {
                    try
                    {
                        var stream = (w + i) % 3 == 0;
                        using var response = await client.SendAsync(StreamReading.Chat(stream ? "chat-short" : "chat", stream), HttpCompletionOption.ResponseHeadersRead);
                        var id = response.Headers.GetValues("x-mulan-request-id").Single();
                        if (!response.IsSuccessStatusCode)
                        {
                            continue;
                        }
                        if (stream)
                        {
                            if ((await StreamReading.ReadEventsAsync(response)) is [.., "[DONE]"])
                            {
                                completed.Add(id);
                            }
                        }
                        else if (JsonNode.Parse(await response.Content.ReadAsStringAsync())?["choices"] is not null)
                        {
                            completed.Add(id);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or System.Text.Json.JsonException or TaskCanceledException)
                    {
                        // the server died under us: this request did not complete
                    }
                }
            })).ToArray();
            while (completed.Count < 150)
            {
                await Task.Delay(20);
            }
            server.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }

        await using var restarted = MulanProcess.Start(args, env);
        await restarted.WaitHealthyAsync(new Uri(url));
        var ids = new List<string>();
        for (var page = 1; ; page++)
        {
            var usage = await admin.GetFromJsonAsync<JsonObject>($"api/usage?pageSize=1000&page={page}");
            var records = usage!["records"]!.AsArray();
            ids.AddRange(records.Select(r => r!["requestId"]!.GetValue<string>()));
            if (records.Count < 1000)
            {
                break;
            }
        }
        Assert.True(completed.Count >= 150);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var missing = completed.Except(ids).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {completed.Count} completed requests have no usage record");
    }
}
