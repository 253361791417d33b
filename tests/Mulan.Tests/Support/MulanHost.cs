using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mulan.FakeVendor;
using Mulan.Hosting;

namespace Mulan.Tests.Support;

/// <summary>A real Mulan server (Kestrel on 127.0.0.1:0, SQLite in a temp folder, or a database of its own on the test run's
/// PostgreSQL server) wired to a fake vendor.</summary>
public sealed class MulanHost : IAsyncDisposable
{
    public const string AdminKey = "mka-test-admin-key-0123456789";

    private MulanHost(WebApplication app, FakeVendorServer vendor, string dataDirectory, CapturedLogs logs, string? postgres, PostgresServer? server)
    {
        Postgres = postgres;
        _postgresServer = server;
        App = app;
        Vendor = vendor;
        DataDirectory = dataDirectory;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = new Uri(address.TrimEnd('/') + "/");
        Admin = new HttpClient { BaseAddress = BaseUrl };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
    }

    public WebApplication App { get; }
    public FakeVendorServer Vendor { get; }
    public string DataDirectory { get; }
    public CapturedLogs Logs { get; }
    public Uri BaseUrl { get; }
    public Uri V1 => new(BaseUrl, "v1/");
    public HttpClient Admin { get; }

    /// <summary>The PostgreSQL connection string this host's stores use, or null on SQLite.</summary>
    public string? Postgres { get; }

    private readonly PostgresServer? _postgresServer;

    /// <summary>Starts a vendor and a Mulan whose catalog points at it. <paramref name="catalogJson"/> may use
    /// <c>{VENDOR}</c> for the vendor's OpenAI base URL and <c>{ORIGIN}</c> for its origin (native protocols), <c>{KEY}</c> for its key (inside composite credentials); by default it defines the usual test routes.</summary>
    public static async Task<MulanHost> StartAsync(string? catalogJson = null, Action<WebApplicationBuilder>? configure = null, FakeVendorServer? vendor = null,
        string? dataDirectory = null, bool seedDemo = false, bool? postgres = null, PostgresServer? postgresServer = null)
    {
        vendor ??= await FakeVendorServer.StartAsync();
        var data = dataDirectory ?? Directory.CreateTempSubdirectory("mulan-test-").FullName;
        var configPath = Path.Combine(data, "mulan.json");
        await File.WriteAllTextAsync(configPath, (catalogJson ?? DefaultCatalog)
            .Replace("{VENDOR}", vendor.BaseUrl.ToString(), StringComparison.Ordinal).Replace("{ORIGIN}", vendor.Origin.ToString().TrimEnd('/'), StringComparison.Ordinal)
            .Replace("{KEY}", vendor.ApiKey, StringComparison.Ordinal));
        var logs = new CapturedLogs();
        // PostgreSQL when asked for, or for every host when the run says so (MULAN_TEST_POSTGRES=1).
        var server = postgres ?? PostgresServer.ForAllHosts ? postgresServer ?? await PostgresServer.SharedAsync() : null;
        var database = server is null ? null : await server.DatabaseForAsync(data);
        var arguments = new ServeArguments("http://127.0.0.1:0", data, configPath, database);
        var file = MulanServer.ReadCatalog(configPath);
        var app = MulanServer.Build(arguments, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Configuration["Knowledge:SeedDemo"] = seedDemo ? "true" : "false";
            configure?.Invoke(builder);
        });
        var env = new Dictionary<string, string?> { ["MULAN_ADMIN_KEY"] = AdminKey, ["FAKE_VENDOR_KEY"] = vendor.ApiKey };
        await MulanServer.InitializeAsync(app, arguments, file, name => env.GetValueOrDefault(name));
        await app.StartAsync();
        return new MulanHost(app, vendor, data, logs, database, server);
    }

    /// <summary>Routes used across tests; each fake-vendor behaviour is a deployment of its own.</summary>
    public const string DefaultCatalog = """
        {
          "providers": [
            { "name": "fake", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "claude", "kind": "anthropic", "baseUrl": "{VENDOR}", "apiKey": "sk-ant-not-used" }
          ],
          "models": [
            { "name": "chat", "deployments": [ { "provider": "fake", "model": "fake-chat", "price": { "currency": "USD", "input": 0.15, "output": 0.60 } } ] },
            { "name": "chat-short", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=3", "price": { "currency": "USD", "input": 0.15, "output": 0.60 } } ] },
            { "name": "chat-cny", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=20", "price": { "currency": "CNY", "input": 2, "output": 8, "cachedInput": 0.5 } } ] },
            { "name": "chat-nousage", "deployments": [ { "provider": "fake", "model": "fake-chat+nousage", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "chat-slow", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=40+gap=25", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "chat-tools", "deployments": [ { "provider": "fake", "model": "fake-chat+tools", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "chat-moonshot", "deployments": [ { "provider": "fake", "model": "fake-chat+moonshot", "price": { "currency": "CNY", "input": 12, "output": 12 } } ] },
            { "name": "chat-429", "deployments": [ { "provider": "fake", "model": "fake-chat+fail=429", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "chat-500", "deployments": [ { "provider": "fake", "model": "fake-chat+fail=500", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "chat-reset", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=30+reset=5", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "chat-errorevent", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=30+errorevent=4", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "chat-claude", "deployments": [ { "provider": "claude", "model": "claude-haiku-4-5", "price": { "currency": "USD", "input": 1, "output": 5 } } ] },
            { "name": "embed", "deployments": [ { "provider": "fake", "model": "fake-embed", "price": { "currency": "USD", "input": 0.02, "output": 0 } } ] }
          ],
          "exchangeRates": [ { "from": "USD", "to": "CNY", "rate": 7.1 } ]
        }
        """;

    public async Task<string> CreateKeyAsync(object? body = null)
    {
        using var response = await Admin.PostAsJsonAsync("api/keys", body ?? new { name = "test" });
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonObject>();
        return json!["key"]!.GetValue<string>();
    }

    public HttpClient Client(string key)
    {
        var http = new HttpClient { BaseAddress = BaseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    public async Task<JsonObject> UsageAsync(string query = "")
    {
        var json = await Admin.GetFromJsonAsync<JsonObject>("api/usage?pageSize=1000" + query);
        return json!;
    }

    public async Task<IReadOnlyList<JsonObject>> UsageRecordsAsync(string query = "") =>
        [.. (await UsageAsync(query))["records"]!.AsArray().OfType<JsonObject>()];

    /// <summary>Waits until the ledger holds <paramref name="count"/> records (aborted streams are recorded just after the abort).</summary>
    public async Task<IReadOnlyList<JsonObject>> WaitForRecordsAsync(int count, string query = "")
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var records = await UsageRecordsAsync(query);
            if (records.Count >= count || DateTime.UtcNow > deadline)
            {
                return records;
            }
            await Task.Delay(50);
        }
    }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>Stops the server but keeps its data folder and the vendor, to start again over the same data.</summary>
    public async Task StopKeepingDataAsync()
    {
        Admin.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await Vendor.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Postgres is not null && _postgresServer is not null)
        {
            await _postgresServer.DropAsync(Postgres);
        }
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a pooled connection; the temp folder is cleaned by the OS.
        }
    }
}
