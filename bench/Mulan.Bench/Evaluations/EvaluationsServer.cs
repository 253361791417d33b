using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Bench.Apps;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;

namespace Mulan.Bench.Evaluations;

/// <summary>
/// One <c>mulan serve</c> (LedgerSync=Full, the default) with three routes on the fake vendor: <c>eval-chat</c>, which the
/// evaluation runs and the direct calls ask, and <c>pilot-chat</c> / <c>pilot-long</c> (different replies and prices), which
/// the pilot's keys call so that its ledger has more than one model. Its API is reached with the administrator key.
/// </summary>
internal sealed class EvaluationsServer : IDisposable
{
    public const string EvalRoute = "eval-chat";
    public static readonly string[] PilotRoutes = ["pilot-chat", "pilot-long"];

    private EvaluationsServer(ArmTarget mulan)
    {
        Mulan = mulan;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 64,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        };
        Admin = new HttpClient(handler) { BaseAddress = new Uri(mulan.ChatUrl, "/"), Timeout = TimeSpan.FromSeconds(120) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MulanArm.AdminKey);
    }

    /// <summary>The server; its <see cref="ArmTarget.Authorization"/> is a virtual key for the direct calls.</summary>
    public ArmTarget Mulan { get; }

    /// <summary>The API with the administrator key.</summary>
    public HttpClient Admin { get; }

    public ChildProcess Process => Mulan.Process!;

    private static string Catalog(int vendorPort) => JsonSerializer.Serialize(new
    {
        providers = new[] { new { name = "fake", kind = "openai", baseUrl = $"http://127.0.0.1:{vendorPort}/v1", apiKey = FakeVendorArm.ApiKey } },
        models = new[]
        {
            new { name = EvalRoute, deployments = new[] { new { provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 0.15, output = 0.6 } } } },
            new { name = PilotRoutes[0], deployments = new[] { new { provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 0.15, output = 0.6 } } } },
            new { name = PilotRoutes[1], deployments = new[] { new { provider = "fake", model = "fake-chat+chunks=64", price = new { currency = "USD", input = 2.5, output = 10.0 } } } },
        },
    }, new JsonSerializerOptions { WriteIndented = true });

    public static async Task<EvaluationsServer> StartAsync(string dll, ScratchDirectory scratch, string dataFolder, int vendorPort, CancellationToken ct)
    {
        var (target, skipped) = await MulanArm.StartAsync(dll, scratch, dataFolder, new Dictionary<string, string>(), vendorPort, ct, ArmKind.Mulan, Catalog(vendorPort));
        return target is null ? throw new BenchException(skipped ?? "mulan did not start") : new EvaluationsServer(target);
    }

    public Task<JsonObject> PostAsync(string path, object body, CancellationToken ct) => AppsServer.PostAsync(Admin, path, body, ct);

    public async Task<JsonObject> GetAsync(string path, CancellationToken ct)
    {
        using var response = await Admin.GetAsync(path, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return response.IsSuccessStatusCode
            ? JsonNode.Parse(text)!.AsObject()
            : throw new BenchException($"GET /{path} answered {(int)response.StatusCode}: {(text.Length > 300 ? text[..300] : text)}");
    }

    /// <summary>Usage records the ledger holds for a query (<c>GET /api/usage?…&amp;pageSize=1</c>, its <c>count</c>).</summary>
    public async Task<long> UsageCountAsync(string query, CancellationToken ct) =>
        (await Admin.GetFromJsonAsync<JsonObject>($"api/usage?{query}&pageSize=1", ct))!["count"]!.GetValue<long>();

    public void Dispose() => Admin.Dispose();
}
