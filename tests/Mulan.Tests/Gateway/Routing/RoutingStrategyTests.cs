using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Routing;

public sealed class RoutingStrategyTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [
            { "name": "pricey", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "cheap", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "yuan", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" }
          ],
          "models": [
            { "name": "by-cost", "strategy": "lowest-cost", "deployments": [
              { "provider": "pricey", "model": "fake-chat+chunks=3", "price": { "currency": "USD", "input": 10, "output": 20 } },
              { "provider": "cheap", "model": "fake-chat+chunks=3", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "by-cost-two-currencies", "strategy": "lowest-cost", "deployments": [
              { "provider": "pricey", "model": "fake-chat+chunks=3", "price": { "currency": "USD", "input": 10, "output": 20 } },
              { "provider": "yuan", "model": "fake-chat+chunks=3", "price": { "currency": "CNY", "input": 1, "output": 2 } } ] },
            { "name": "by-weight", "strategy": "weighted", "deployments": [
              { "provider": "pricey", "model": "fake-chat+chunks=1", "price": { "currency": "USD", "input": 1, "output": 2 }, "weight": 1 },
              { "provider": "cheap", "model": "fake-chat+chunks=1", "price": { "currency": "USD", "input": 1, "output": 2 }, "weight": 3 } ] },
            { "name": "by-latency", "strategy": "lowest-latency", "deployments": [
              { "provider": "pricey", "model": "fake-chat+chunks=3+firstbyte=150", "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "cheap", "model": "fake-chat+chunks=3", "price": { "currency": "USD", "input": 1, "output": 2 } } ] }
          ]
        }
        """;

    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(Catalog);
        _client = _host.Client(await _host.CreateKeyAsync());
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private async Task<string> ServedByAsync(string model)
    {
        using var response = await _client.PostAsJsonAsync("v1/chat/completions", new { model, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("x-mulan-provider").Single();
    }

    [Fact]
    public async Task Lowest_cost_takes_the_cheapest_deployment_and_keeps_the_listed_order_across_currencies()
    {
        Assert.Equal("cheap", await ServedByAsync("by-cost"));
        Assert.Equal("pricey", await ServedByAsync("by-cost-two-currencies"));
    }

    [Fact]
    public async Task Weighted_routing_splits_traffic_by_weight()
    {
        var cheap = 0;
        for (var i = 0; i < 400; i++)
        {
            cheap += await ServedByAsync("by-weight") == "cheap" ? 1 : 0;
        }
        // Expected 300 of 400 (weights 1:3); the bounds are more than three standard deviations (8.7) away.
        Assert.InRange(cheap, 265, 335);
        var model = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/models"))!["models"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "by-weight")!;
        Assert.Equal(3, model["deployments"]![1]!["weight"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_weight_out_of_range_is_refused_and_named()
    {
        var response = await _host.Admin.PostAsJsonAsync("api/models", new
        {
            name = "bad-weight",
            strategy = "weighted",
            deployments = new[] { new { provider = "cheap", model = "m", price = new { currency = "USD", input = 1, output = 1 }, weight = 0 } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadAsStringAsync();
        Assert.Contains("deployments[0].weight\"", problem);
        Assert.Contains("must be between 1 and 1000 (got 0)", problem);
    }

    [Fact]
    public async Task Lowest_latency_measures_every_deployment_then_prefers_the_fastest()
    {
        var served = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            served.Add(await ServedByAsync("by-latency"));
        }
        // Unmeasured deployments go first, in listed order; then the measured averages decide.
        Assert.Equal(["pricey", "cheap", "cheap", "cheap", "cheap", "cheap"], served);
        var states = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/deployments"))!["deployments"]!.AsArray()
            .Where(d => d!["model"]!.GetValue<string>() == "by-latency").ToList();
        Assert.Equal("lowest-latency", states[0]!["strategy"]!.GetValue<string>());
        Assert.True(states[0]!["latencyMs"]!.GetValue<double>() >= 140);
        Assert.True(states[1]!["latencyMs"]!.GetValue<double>() < states[0]!["latencyMs"]!.GetValue<double>());
    }
}
