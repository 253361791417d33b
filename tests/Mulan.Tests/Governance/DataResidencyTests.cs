using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Governance;

/// <summary>Providers are local or external; a local-only model can only ever be served by local providers.</summary>
public sealed class DataResidencyTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [
            { "name": "cloud", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "in-house", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY", "location": "local" },
            { "name": "box", "kind": "ollama" }
          ],
          "models": [
            { "name": "private", "localOnly": true, "deployments": [
              { "provider": "in-house", "model": "fake-chat+chunks=3", "price": { "currency": "CNY", "input": 0, "output": 0 } } ] },
            { "name": "mixed", "deployments": [
              { "provider": "cloud", "model": "fake-chat+chunks=3", "price": { "currency": "CNY", "input": 1, "output": 1 } },
              { "provider": "in-house", "model": "fake-chat+chunks=4", "price": { "currency": "CNY", "input": 0, "output": 0 } } ] },
            { "name": "cloud-only", "deployments": [
              { "provider": "cloud", "model": "fake-chat", "price": { "currency": "CNY", "input": 1, "output": 1 } } ] }
          ]
        }
        """;

    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync(Catalog);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Providers_are_external_unless_their_kind_runs_locally_or_they_are_marked_local()
    {
        var providers = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/providers"))!["providers"]!.AsArray()
            .ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!["location"]!.GetValue<string>());
        Assert.Equal("external", providers["cloud"]);
        Assert.Equal("local", providers["in-house"]);
        Assert.Equal("local", providers["box"]);
    }

    [Fact]
    public async Task A_local_only_model_is_served_by_its_local_provider()
    {
        using var client = _host.Client(await _host.CreateKeyAsync());
        using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "private", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("in-house", response.Headers.GetValues("x-mulan-provider").Single());
        var models = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/models"))!["models"]!.AsArray();
        Assert.True(models.Single(m => m!["name"]!.GetValue<string>() == "private")!["localOnly"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_local_only_model_cannot_be_given_an_external_deployment()
    {
        using var response = await _host.Admin.PostAsJsonAsync("api/models", new
        {
            name = "leaky", localOnly = true,
            deployments = new object[]
            {
                new { provider = "in-house", model = "fake-chat", price = new { currency = "CNY", input = 0, output = 0 } },
                new { provider = "cloud", model = "fake-chat", price = new { currency = "CNY", input = 0, output = 0 } },
            },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Contains("model.deployments[1].provider", errors.Select(e => e.Key));
        using var list = await _host.Admin.GetAsync("api/models");
        Assert.DoesNotContain("leaky", await list.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_location_other_than_local_or_external_is_refused()
    {
        using var response = await _host.Admin.PostAsJsonAsync("api/providers", new { name = "odd", kind = "openai", baseUrl = "http://127.0.0.1:9/v1", location = "nearby" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("provider.location", (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task An_api_provider_keeps_the_location_it_was_given_when_the_catalog_is_rebuilt_from_storage()
    {
        (await _host.Admin.PostAsJsonAsync("api/providers", new { name = "gpu", kind = "vllm", location = "external" })).EnsureSuccessStatusCode();
        var providers = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/providers"))!["providers"]!.AsArray();
        Assert.Equal("external", providers.Single(p => p!["name"]!.GetValue<string>() == "gpu")!["location"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_local_only_key_or_workspace_skips_external_deployments_and_is_refused_a_model_with_none()
    {
        using var keyBound = _host.Client(await _host.CreateKeyAsync(new { name = "kept-home", localOnly = true }));
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "regulated", localOnly = true })).EnsureSuccessStatusCode();
        using var workspaceBound = _host.Client(await _host.CreateKeyAsync(new { name = "regulated-key", workspace = "regulated" }));
        using var free = _host.Client(await _host.CreateKeyAsync(new { name = "free" }));

        foreach (var client in new[] { keyBound, workspaceBound })
        {
            using var served = await client.PostAsJsonAsync("v1/chat/completions", new { model = "mixed", messages = new[] { new { role = "user", content = "hi" } } });
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal("in-house", served.Headers.GetValues("x-mulan-provider").Single());
            using var refused = await client.PostAsJsonAsync("v1/chat/completions", new { model = "cloud-only", messages = new[] { new { role = "user", content = "hi" } } });
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("data_residency", (await refused.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"]!.GetValue<string>());
        }
        // Nothing of theirs reached the cloud provider; an unrestricted key still goes there first.
        Assert.Equal(2, _host.Vendor.Requests.Count);
        using var first = await free.PostAsJsonAsync("v1/chat/completions", new { model = "mixed", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal("cloud", first.Headers.GetValues("x-mulan-provider").Single());
    }
}
