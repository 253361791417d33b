using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Probing;

public sealed class ModelProbeTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<JsonObject> TestAsync(string model, string query = "")
    {
        using var response = await _host.Admin.PostAsync($"api/models/{model}/test{query}", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task Each_deployment_gets_one_metered_call_and_failures_carry_the_upstream_reason()
    {
        var route = new
        {
            name = "chat-mixed",
            deployments = new object[]
            {
                new { provider = "fake", model = "fake-chat+fail=500", price = new { currency = "USD", input = 1, output = 2 } },
                new { provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 1, output = 2 } },
                new { provider = "fake", model = "fake-chat+chunks=3", enabled = false, price = new { currency = "USD", input = 1, output = 2 } },
            },
        };
        (await _host.Admin.PostAsJsonAsync("api/models", route)).EnsureSuccessStatusCode();

        var result = await TestAsync("chat-mixed");
        Assert.Equal("chat", result["endpoint"]!.GetValue<string>());
        Assert.False(result["ok"]!.GetValue<bool>());
        var deployments = result["deployments"]!.AsArray().OfType<JsonObject>().ToList();
        Assert.Equal(3, deployments.Count);
        Assert.False(deployments[0]["ok"]!.GetValue<bool>());
        Assert.Equal(502, deployments[0]["status"]!.GetValue<int>());
        Assert.Contains("500", deployments[0]["error"]!.GetValue<string>());
        Assert.True(deployments[1]["ok"]!.GetValue<bool>()); // pinned: the failing one before it did not fall back to it
        Assert.True(deployments[1]["latencyMs"]!.GetValue<double>() > 0);
        Assert.Contains("disabled", deployments[2]["error"]!.GetValue<string>());
        Assert.DoesNotContain(_host.Vendor.ApiKey, result.ToJsonString());

        // Metered like any call, under the model-test key of the default workspace; the ok one asked for one token.
        var records = await _host.UsageRecordsAsync("&key=service-model-test");
        Assert.Equal(2, records.Count);
        var served = Assert.Single(records, r => r["status"]!.GetValue<string>() == "ok");
        Assert.Equal("fake-chat", served["vendorModel"]!.GetValue<string>());
        Assert.Equal(deployments[1]["requestId"]!.GetValue<string>(), served["requestId"]!.GetValue<string>());
        var sent = _host.Vendor.Requests.Select(r => JsonNode.Parse(r.Body)!).Last(b => b["model"]!.GetValue<string>() == "fake-chat");
        Assert.Equal(1, sent["max_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Embedding_routes_are_tested_with_an_embedding_and_unknown_models_are_404()
    {
        var result = await TestAsync("embed");
        Assert.Equal("embeddings", result["endpoint"]!.GetValue<string>());
        Assert.True(result["ok"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.PostAsync("api/models/no-such-model/test", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.Admin.PostAsync("api/models/chat/test?endpoint=images", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _host.Admin.PostAsync("api/models/chat/test?endpoint=chat", null)).StatusCode);
    }

    [Fact]
    public async Task A_client_cannot_reach_the_model_test_key_or_pin_a_deployment()
    {
        var key = await _host.CreateKeyAsync();
        using var http = _host.Client(key);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("api/models/chat/test", null)).StatusCode);
        await TestAsync("chat");
        Assert.DoesNotContain(ModelProbeKeyId, await _host.Admin.GetStringAsync("api/keys"));
    }

    private const string ModelProbeKeyId = "service-model-test";
}
