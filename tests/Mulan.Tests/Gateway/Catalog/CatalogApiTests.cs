using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Catalog;

public sealed class CatalogApiTests : IAsyncLifetime
{
    private const string SecretVendorKey = "sk-live-very-secret-vendor-key-42";
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Provider_and_model_added_through_the_api_serve_at_once_and_the_secret_never_returns()
    {
        var key = await _host.CreateKeyAsync();
        using var client = _host.Client(key);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync("v1/embeddings", new { model = "late-embed", input = "x" })).StatusCode);

        var provider = await _host.Admin.PostAsJsonAsync("api/providers", new
        {
            name = "vendor-b", kind = "openai", baseUrl = _host.Vendor.BaseUrl.ToString(), apiKey = _host.Vendor.ApiKey,
            headers = new Dictionary<string, string> { ["OpenAI-Organization"] = "org-123" },
        });
        Assert.Equal(HttpStatusCode.Created, provider.StatusCode);
        var providerText = await provider.Content.ReadAsStringAsync();
        Assert.DoesNotContain(_host.Vendor.ApiKey, providerText);
        Assert.DoesNotContain("org-123", providerText);
        Assert.True(JsonNode.Parse(providerText)!["hasApiKey"]!.GetValue<bool>());

        var model = await _host.Admin.PostAsJsonAsync("api/models", new
        {
            name = "late-embed",
            deployments = new[] { new { provider = "vendor-b", model = "fake-embed", price = new { currency = "CNY", input = 0.5, output = 0 } } },
        });
        Assert.Equal(HttpStatusCode.Created, model.StatusCode);

        var served = await client.PostAsJsonAsync("v1/embeddings", new { model = "late-embed", input = "x" });
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var forwarded = _host.Vendor.Requests[^1];
        Assert.Equal("org-123", forwarded.Headers["OpenAI-Organization"]);
        Assert.Equal("Bearer " + _host.Vendor.ApiKey, forwarded.Headers["Authorization"]);
        Assert.Contains("late-embed", await client.GetStringAsync("v1/models"));

        var list = await _host.Admin.GetStringAsync("api/providers");
        Assert.DoesNotContain(_host.Vendor.ApiKey, list);
        Assert.Contains("vendor-b", list);
        Assert.Contains("\"source\":\"config\"", list);
    }

    [SqliteFact]
    public async Task Provider_secrets_are_encrypted_at_rest()
    {
        var response = await _host.Admin.PostAsJsonAsync("api/providers", new { name = "deep", kind = "deepseek", apiKey = SecretVendorKey });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("https://api.deepseek.com/v1", (await response.Content.ReadFromJsonAsync<JsonObject>())!["baseUrl"]!.GetValue<string>());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(_host.DataDirectory, "mulan.db*"))
        {
            Assert.DoesNotContain(SecretVendorKey, Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file)));
        }
    }

    [Theory]
    [InlineData("""{"name":"x","kind":"nope"}""", "provider.kind")]
    [InlineData("""{"kind":"openai"}""", "provider.name")]
    [InlineData("""{"name":"x","kind":"openai","baseUrl":"file:///etc/passwd"}""", "provider.baseUrl")]
    [InlineData("""{"name":"x","kind":"openai","apiKey":"env:HOME"}""", "provider.apiKey")]
    [InlineData("""{"name":"x","kind":"azure-openai"}""", "provider.baseUrl")]
    [InlineData("""{"name":"x","kind":"openai","headers":{"Authorization":"Bearer y"}}""", "provider.headers.Authorization")]
    public async Task Invalid_providers_are_400_naming_the_field(string body, string field)
    {
        var response = await _host.Admin.PostAsync("api/providers", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]![field]);
        Assert.DoesNotContain("\"x\"", await _host.Admin.GetStringAsync("api/providers"));
    }

    [Fact]
    public async Task Invalid_models_are_400_and_duplicates_409()
    {
        var bad = await _host.Admin.PostAsJsonAsync("api/models", new { name = "m", deployments = new[] { new { provider = "ghost", model = "x", price = new { currency = "USD", input = 1, output = 1 } } } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.NotNull((await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["model.deployments[0].provider"]);
        var dup = await _host.Admin.PostAsJsonAsync("api/models", new { name = "chat", deployments = new[] { new { provider = "fake", model = "x", price = new { currency = "USD", input = 1, output = 1 } } } });
        Assert.Equal(HttpStatusCode.Conflict, dup.StatusCode);
    }

    [Fact]
    public async Task Config_entries_cannot_be_deleted_through_the_api_and_used_providers_are_kept()
    {
        Assert.Equal(HttpStatusCode.Conflict, (await _host.Admin.DeleteAsync("api/models/chat")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _host.Admin.DeleteAsync("api/providers/fake")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.DeleteAsync("api/models/ghost")).StatusCode);
        (await _host.Admin.PostAsJsonAsync("api/providers", new { name = "p2", kind = "ollama" })).EnsureSuccessStatusCode();
        (await _host.Admin.PostAsJsonAsync("api/models", new { name = "local", deployments = new[] { new { provider = "p2", model = "qwen3", price = new { currency = "CNY", input = 0, output = 0 } } } })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Conflict, (await _host.Admin.DeleteAsync("api/providers/p2")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _host.Admin.DeleteAsync("api/models/local")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _host.Admin.DeleteAsync("api/providers/p2")).StatusCode);
    }

    [Fact]
    public async Task Readers_see_a_whole_snapshot_while_the_catalog_changes()
    {
        var key = await _host.CreateKeyAsync();
        using var client = _host.Client(key);
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var r = await client.PostAsJsonAsync("v1/embeddings", new { model = "embed", input = "x" });
                if (r.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });
        for (var i = 0; i < 20; i++)
        {
            (await _host.Admin.PostAsJsonAsync("api/models", new { name = $"m{i}", deployments = new[] { new { provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 1, output = 1 } } } })).EnsureSuccessStatusCode();
        }
        await stop.CancelAsync();
        await reader;
        Assert.Equal(0, failures);
        var models = JsonNode.Parse(await _host.Admin.GetStringAsync("api/models"))!["models"]!.AsArray();
        Assert.Equal(33, models.Count);
    }
}
