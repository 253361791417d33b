using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Access;

public sealed class KeysApiTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Created_key_has_256_random_bits_and_is_shown_only_once()
    {
        var response = await _host.Admin.PostAsJsonAsync("api/keys", new { name = "web", models = new[] { "chat" }, rpm = 60,
            budget = new { amount = 10, currency = "USD", period = "month" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var key = created["key"]!.GetValue<string>();
        Assert.StartsWith("mk-", key);
        Assert.Equal(43, key.Length - 3); // 32 bytes, base64url without padding
        Assert.Equal("month", created["budget"]!["period"]!.GetValue<string>());

        var list = await _host.Admin.GetStringAsync("api/keys");
        Assert.DoesNotContain(key, list);
        Assert.DoesNotContain(key[3..], list);
        var listed = Assert.Single(JsonNode.Parse(list)!["keys"]!.AsArray());
        Assert.Equal(created["id"]!.GetValue<string>(), listed!["id"]!.GetValue<string>());
        Assert.StartsWith(key[..9], listed["prefix"]!.GetValue<string>());
        Assert.Null(listed["key"]);

        var other = await _host.CreateKeyAsync();
        Assert.NotEqual(key, other);
    }

    [SqliteFact]
    public async Task Keys_are_stored_only_as_hashes()
    {
        var key = await _host.CreateKeyAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var bytes = await File.ReadAllBytesAsync(Path.Combine(_host.DataDirectory, "mulan.db"));
        var wal = Path.Combine(_host.DataDirectory, "mulan.db-wal");
        var all = Encoding.Latin1.GetString(bytes) + (File.Exists(wal) ? Encoding.Latin1.GetString(await File.ReadAllBytesAsync(wal)) : "");
        Assert.DoesNotContain(key[3..], all);
        Assert.DoesNotContain(MulanHost.AdminKey, all);
    }

    [Theory]
    [InlineData("""{"models":["chat"]}""", "name")]
    [InlineData("""{"name":"x","models":["no-such-model"]}""", "models")]
    [InlineData("""{"name":"x","workspace":"nope"}""", "workspace")]
    [InlineData("""{"name":"x","budget":{"amount":-1,"currency":"USD","period":"month"}}""", "budget.amount")]
    [InlineData("""{"name":"x","budget":{"amount":5,"currency":"EUR","period":"month"}}""", "budget.currency")]
    [InlineData("""{"name":"x","budget":{"amount":5,"currency":"USD","period":"week"}}""", "budget.period")]
    [InlineData("""{"name":"x","rpm":0}""", "rpm")]
    [InlineData("""{"name":"x","expiresAt":"2001-01-01T00:00:00Z"}""", "expiresAt")]
    public async Task Invalid_key_requests_are_400_problems_naming_the_field_and_create_nothing(string body, string field)
    {
        var response = await _host.Admin.PostAsync("api/keys", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.NotNull(problem["errors"]![field]);
        Assert.Empty(JsonNode.Parse(await _host.Admin.GetStringAsync("api/keys"))!["keys"]!.AsArray());
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem_with_detail()
    {
        var response = await _host.Admin.PostAsync("api/keys", new StringContent("{\"name\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("JSON", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Admin_api_requires_the_admin_key()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.BaseUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/keys")).StatusCode);
        var virtualKey = await _host.CreateKeyAsync();
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", virtualKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("api/keys", new { name = "sneaky" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/usage")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/providers")).StatusCode);
        Assert.Single(JsonNode.Parse(await _host.Admin.GetStringAsync("api/keys"))!["keys"]!.AsArray());
    }

    [Fact]
    public async Task Workspaces_scope_keys_and_usage()
    {
        var created = await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "acme" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var acme = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(HttpStatusCode.Conflict, (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "ACME" })).StatusCode);

        var acmeKey = await _host.CreateKeyAsync(new { name = "acme-app", workspace = "acme" });
        var defaultKey = await _host.CreateKeyAsync(new { name = "default-app" });
        foreach (var key in new[] { acmeKey, defaultKey })
        {
            using var http = _host.Client(key);
            (await http.PostAsJsonAsync("v1/embeddings", new { model = "embed", input = "hello" })).EnsureSuccessStatusCode();
        }
        var acmeKeys = JsonNode.Parse(await _host.Admin.GetStringAsync("api/keys?workspace=acme"))!["keys"]!.AsArray();
        Assert.Equal("acme-app", Assert.Single(acmeKeys)!["name"]!.GetValue<string>());
        var acmeUsage = await _host.UsageRecordsAsync("&workspace=" + acme["id"]);
        Assert.Equal(acme["id"]!.GetValue<string>(), Assert.Single(acmeUsage)["workspace"]!.GetValue<string>());
        Assert.Equal(2, (await _host.UsageRecordsAsync()).Count);
    }

    [Fact]
    public async Task Revoking_an_unknown_key_is_404()
    {
        var response = await _host.Admin.DeleteAsync("api/keys/key_nope");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
