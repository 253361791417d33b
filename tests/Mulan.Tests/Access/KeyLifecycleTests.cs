using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Access;

public sealed class KeyLifecycleTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<JsonObject> CreateAsync(object body)
    {
        using var response = await _host.Admin.PostAsJsonAsync("api/keys", body);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private Task<HttpResponseMessage> PatchAsync(string path, string json) =>
        _host.Admin.PatchAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static Task<HttpResponseMessage> ChatAsync(HttpClient http, string model = "chat") =>
        http.PostAsJsonAsync("v1/chat/completions", new { model, messages = new[] { new { role = "user", content = "hi" } } });

    private async Task<JsonObject> KeyAsync(string id) =>
        (await _host.Admin.GetFromJsonAsync<JsonObject>("api/keys"))!["keys"]!.AsArray().OfType<JsonObject>().Single(k => k["id"]!.GetValue<string>() == id);

    [Fact]
    public async Task Update_merges_fields_and_the_gateway_applies_them_at_once()
    {
        var created = await CreateAsync(new { name = "web", models = new[] { "chat" }, rpm = 60, budget = new { amount = 10, currency = "USD", period = "month" } });
        var id = created["id"]!.GetValue<string>();
        using var http = _host.Client(created["key"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await ChatAsync(http, "chat-short")).StatusCode);

        // Absent fields stay; models changes; explicit null removes the rpm.
        var response = await PatchAsync($"api/keys/{id}", """{"name":"web-2","models":["chat","chat-short"],"rpm":null}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var updated = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("web-2", updated["name"]!.GetValue<string>());
        Assert.Null(updated["rpm"]);
        Assert.Equal(10m, updated["budget"]!["amount"]!.GetValue<decimal>());
        Assert.Null(updated["key"]);
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(http, "chat-short")).StatusCode);

        // null models: every model; the listing agrees.
        Assert.Equal(HttpStatusCode.OK, (await PatchAsync($"api/keys/{id}", """{"models":null,"budget":null,"tpm":5000}""")).StatusCode);
        var listed = await KeyAsync(id);
        Assert.Null(listed["models"]);
        Assert.Null(listed["budget"]);
        Assert.Equal(5000, listed["tpm"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(http, "chat-cny")).StatusCode);

        // An expiry in the future is kept; the key works until then.
        var expires = DateTimeOffset.UtcNow.AddDays(1).ToString("O");
        Assert.Equal(HttpStatusCode.OK, (await PatchAsync($"api/keys/{id}", $$"""{"expiresAt":"{{expires}}"}""")).StatusCode);
        Assert.NotNull((await KeyAsync(id))["expiresAt"]);

        var audit = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/audit?action=key.updated"))!["entries"]!.AsArray();
        Assert.Equal(3, audit.Count);
        var first = audit.OfType<JsonObject>().Last()["details"]!;
        Assert.Equal("web", first["name"]!["from"]!.GetValue<string>());
        Assert.Null(first["budget"]); // unchanged fields are not listed
        Assert.DoesNotContain(created["key"]!.GetValue<string>(), audit.ToJsonString());
    }

    [Theory]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{"name":null}""", "name")]
    [InlineData("""{"models":["no-such-model"]}""", "models")]
    [InlineData("""{"models":"chat"}""", "models")]
    [InlineData("""{"budget":{"amount":-1,"currency":"USD","period":"month"}}""", "budget.amount")]
    [InlineData("""{"budget":{"amount":5,"currency":"EUR","period":"month"}}""", "budget.currency")]
    [InlineData("""{"rpm":0}""", "rpm")]
    [InlineData("""{"rpm":"fast"}""", "rpm")]
    [InlineData("""{"expiresAt":"2001-01-01T00:00:00Z"}""", "expiresAt")]
    [InlineData("""{"workspace":"elsewhere"}""", "workspace")]
    public async Task Invalid_updates_are_400_problems_naming_the_field_and_change_nothing(string body, string field)
    {
        var created = await CreateAsync(new { name = "web", models = new[] { "chat" }, rpm = 60 });
        var id = created["id"]!.GetValue<string>();
        var before = (await KeyAsync(id)).ToJsonString();
        var response = await PatchAsync($"api/keys/{id}", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]![field]);
        Assert.Equal(before, (await KeyAsync(id)).ToJsonString());
        Assert.Empty((await _host.Admin.GetFromJsonAsync<JsonObject>("api/audit?action=key.updated"))!["entries"]!.AsArray());
    }

    [Fact]
    public async Task Revoked_keys_cannot_be_updated_or_rotated()
    {
        var id = (await CreateAsync(new { name = "old" }))["id"]!.GetValue<string>();
        (await _host.Admin.DeleteAsync($"api/keys/{id}")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Conflict, (await PatchAsync($"api/keys/{id}", """{"name":"new"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _host.Admin.PostAsync($"api/keys/{id}/rotate", null)).StatusCode);
        Assert.Equal("old", (await KeyAsync(id))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rotate_gives_a_new_secret_on_the_same_id_with_the_same_usage_and_budget_spend()
    {
        var created = await CreateAsync(new { name = "web", budget = new { amount = 10, currency = "USD", period = "month" } });
        var id = created["id"]!.GetValue<string>();
        var oldSecret = created["key"]!.GetValue<string>();
        using (var old = _host.Client(oldSecret))
        {
            Assert.Equal(HttpStatusCode.OK, (await ChatAsync(old)).StatusCode);
        }
        var spentBefore = (await _host.UsageAsync("&key=" + id))["totals"]!["cost"]!["amount"]!.GetValue<decimal>();

        var response = await _host.Admin.PostAsync($"api/keys/{id}/rotate", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rotated = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(id, rotated["id"]!.GetValue<string>());
        var newSecret = rotated["key"]!.GetValue<string>();
        Assert.StartsWith("mk-", newSecret);
        Assert.NotEqual(oldSecret, newSecret);

        using (var old = _host.Client(oldSecret))
        {
            var refused = await ChatAsync(old);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("invalid_api_key", await refused.Content.ReadAsStringAsync());
        }
        using (var fresh = _host.Client(newSecret))
        {
            Assert.Equal(HttpStatusCode.OK, (await ChatAsync(fresh)).StatusCode);
        }
        var usage = await _host.UsageAsync("&key=" + id);
        Assert.Equal(2, usage["totals"]!["requests"]!.GetValue<long>());
        Assert.True(usage["totals"]!["cost"]!["amount"]!.GetValue<decimal>() > spentBefore);

        var listed = await KeyAsync(id);
        Assert.Equal(newSecret[..9], listed["prefix"]!.GetValue<string>()[..9]);
        Assert.Equal(10m, listed["budget"]!["amount"]!.GetValue<decimal>());
        var everything = await _host.Admin.GetStringAsync("api/keys") + await _host.Admin.GetStringAsync("api/audit");
        Assert.DoesNotContain(newSecret, everything);
        Assert.Contains("key.rotated", everything);
        Assert.DoesNotContain(newSecret[3..], _host.Logs.Text);
    }

    [Fact]
    public async Task Key_routes_scoped_to_a_workspace_answer_404_for_keys_of_another()
    {
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "acme" })).EnsureSuccessStatusCode();
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "globex" })).EnsureSuccessStatusCode();
        var acmeKey = await CreateAsync(new { name = "acme-app", workspace = "acme" });
        var id = acmeKey["id"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.NotFound, (await PatchAsync($"api/keys/{id}?workspace=globex", """{"name":"stolen"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.PostAsync($"api/keys/{id}/rotate?workspace=globex", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.DeleteAsync($"api/keys/{id}?workspace=globex")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PatchAsync("api/keys/key_nope", """{"name":"x"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.PostAsync("api/keys/key_nope/rotate", null)).StatusCode);
        using (var http = _host.Client(acmeKey["key"]!.GetValue<string>()))
        {
            Assert.Equal(HttpStatusCode.OK, (await ChatAsync(http)).StatusCode); // untouched
        }
        Assert.Equal("acme-app", (await KeyAsync(id))["name"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.OK, (await PatchAsync($"api/keys/{id}?workspace=acme", """{"name":"acme-web"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _host.Admin.DeleteAsync($"api/keys/{id}?workspace=acme")).StatusCode);
    }
}
