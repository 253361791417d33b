using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mulan.Bench.Hosting;

namespace Mulan.Bench.Arms;

/// <summary>
/// The real <c>mulan serve</c> (Release build) with a fresh data folder: authentication, routing, metering and a
/// durable SQLite usage record per request are all part of what is measured.
/// </summary>
internal static class MulanArm
{
    /// <summary>The administrator key of every Mulan the benchmark starts (knowledge bases and apps are set up with it).</summary>
    public const string AdminKey = "mka-bench";

    /// <param name="dataFolder">A fresh folder for the database and key ring.</param>
    /// <param name="environment">Extra variables (runtime settings under test), on top of the admin key.</param>
    /// <param name="catalog">The <c>--config</c> file's content; null: <see cref="MulanConfig.Render"/> for the arm's kind.</param>
    public static async Task<(ArmTarget? Target, string? Skipped)> StartAsync(string dll, ScratchDirectory scratch, string dataFolder,
        IReadOnlyDictionary<string, string> environment, int vendorPort, CancellationToken ct, ArmKind kind = ArmKind.Mulan, string? catalog = null)
    {
        var folder = scratch.Sub(kind.Name());
        var config = Path.Combine(folder, "mulan.json");
        await File.WriteAllTextAsync(config, catalog ?? MulanConfig.Render(vendorPort, kind == ArmKind.MulanAnthropic ? "anthropic" : "openai"), ct);
        var port = FreePort.Next();
        var origin = new Uri($"http://127.0.0.1:{port}");
        var process = ChildProcess.Start("mulan", Executables.Dotnet(),
            [dll, "serve", "--urls", origin.GetLeftPart(UriPartial.Authority), "--data", dataFolder, "--config", config],
            cpu: CorePinning.SystemUnderTestCpu, workingDirectory: folder,
            environment: new Dictionary<string, string>(environment)
            {
                ["MULAN_ADMIN_KEY"] = AdminKey,
                ["MULAN_STORAGE__LEDGERSYNC"] = kind == ArmKind.MulanNormalSync ? "Normal" : "Full",
            });

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        if (!await WaitHealthyAsync(http, origin, process, ct))
        {
            var tail = process.Tail();
            await process.DisposeAsync();
            return (null, $"mulan did not become healthy: {tail}");
        }

        var key = await CreateKeyAsync(http, origin, ct);
        if (key is null)
        {
            var tail = process.Tail();
            await process.DisposeAsync();
            return (null, $"mulan did not create a virtual key: {tail}");
        }

        var target = new ArmTarget(kind, new Uri(origin, "/v1/chat/completions"), key, w => w.MulanRoute(), process: process);
        return (target, null);
    }

    private static async Task<bool> WaitHealthyAsync(HttpClient http, Uri origin, ChildProcess process, CancellationToken ct)
    {
        for (var i = 0; i < 150 && !process.HasExited; i++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(origin, "/healthz"), ct);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200, ct);
        }

        return false;
    }

    private static async Task<string?> CreateKeyAsync(HttpClient http, Uri origin, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(origin, "/api/keys"))
        {
            Content = new StringContent("""{"name":"bench"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return doc.RootElement.TryGetProperty("key", out var key) ? key.GetString() : null;
    }
}
