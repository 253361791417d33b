using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Tests.Support;

namespace Mulan.Tests.Governance;

/// <summary>Prices that change at a given time; each record keeps the price it was charged at.</summary>
public sealed class PriceVersionTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_price_change_takes_effect_at_its_time_and_records_keep_the_price_they_were_charged()
    {
        var soon = DateTimeOffset.UtcNow.AddSeconds(3);
        using (var created = await _host.Admin.PostAsJsonAsync("api/models", new
        {
            name = "repriced",
            deployments = new[]
            {
                new
                {
                    provider = "fake", model = "fake-chat",
                    price = new { currency = "USD", input = 1m, output = 2m },
                    priceChanges = new object[]
                    {
                        new { currency = "USD", input = 3m, output = 4m, effectiveFrom = DateTimeOffset.UtcNow.AddDays(-1) },
                        new { currency = "USD", input = 30m, output = 40m, effectiveFrom = soon },
                    },
                },
            },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var deployment = (await created.Content.ReadFromJsonAsync<JsonObject>())!["deployments"]![0]!;
            Assert.Equal(3m, deployment["priceNow"]!["input"]!.GetValue<decimal>());
            Assert.Equal(2, deployment["priceChanges"]!.AsArray().Count);
        }
        using var client = _host.Client(await _host.CreateKeyAsync());
        async Task ChatAsync()
        {
            using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "repriced", messages = new[] { new { role = "user", content = "hi" } } });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await ChatAsync();
        var wait = soon - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait + TimeSpan.FromMilliseconds(200));
        }
        await ChatAsync();

        var records = (await _host.WaitForRecordsAsync(2)).OrderBy(r => r["at"]!.GetValue<DateTimeOffset>()).ToList();
        var bills = _host.Vendor.Ledger.Bills;
        decimal Expected(JsonObject record, decimal input, decimal output)
        {
            var bill = bills.Single(b => b.MulanRequestId == record["requestId"]!.GetValue<string>());
            return ((bill.PromptTokens * input) + (bill.CompletionTokens * output)) / 1_000_000m;
        }
        Assert.Equal(3m, records[0]["price"]!["input"]!.GetValue<decimal>());
        Assert.Equal(Expected(records[0], 3m, 4m), records[0]["cost"]!["amount"]!.GetValue<decimal>());
        Assert.Equal(30m, records[1]["price"]!["input"]!.GetValue<decimal>());
        Assert.Equal(soon.ToUnixTimeSeconds(), records[1]["price"]!["effectiveFrom"]!.GetValue<DateTimeOffset>().ToUnixTimeSeconds());
        Assert.Equal(Expected(records[1], 30m, 40m), records[1]["cost"]!["amount"]!.GetValue<decimal>());
    }

    [Theory]
    [InlineData("""[{"currency":"USD","input":1,"output":1}]""", "model.deployments[0].priceChanges[0].effectiveFrom")]
    [InlineData("""[{"currency":"CNY","input":1,"output":1,"effectiveFrom":"2030-01-01T00:00:00Z"}]""", "model.deployments[0].priceChanges[0].currency")]
    [InlineData("""[{"currency":"USD","input":-1,"output":1,"effectiveFrom":"2030-01-01T00:00:00Z"}]""", "model.deployments[0].priceChanges[0].input")]
    [InlineData("""[{"currency":"USD","input":1,"output":1,"effectiveFrom":"2030-01-01T00:00:00Z"},{"currency":"USD","input":2,"output":2,"effectiveFrom":"2030-01-01T00:00:00Z"}]""", "model.deployments[0].priceChanges")]
    public async Task Bad_price_changes_are_refused_naming_the_field(string changes, string field)
    {
        var body = $$"""{"name":"m","deployments":[{"provider":"fake","model":"x","price":{"currency":"USD","input":1,"output":1},"priceChanges":{{changes}}}]}""";
        using var response = await _host.Admin.PostAsync("api/models", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
    }

    private async Task<JsonObject> CreateRouteAsync(string name)
    {
        using var created = await _host.Admin.PostAsJsonAsync("api/models", new
        {
            name,
            deployments = new[] { new { provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 1m, output = 2m } } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private async Task<JsonNode> RouteAsync(string name) =>
        (await _host.Admin.GetFromJsonAsync<JsonObject>("api/models"))!["models"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == name)!;

    [Fact]
    public async Task A_price_change_posted_for_a_route_charges_the_next_request_at_the_new_price_and_is_audited()
    {
        await CreateRouteAsync("announced");
        using var client = _host.Client(await _host.CreateKeyAsync());
        async Task ChatAsync()
        {
            using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "announced", messages = new[] { new { role = "user", content = "hi" } } });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await ChatAsync();
        var from = DateTimeOffset.UtcNow;
        using (var changed = await _host.Admin.PostAsJsonAsync("api/models/announced/prices", new
        {
            provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 5m, output = 7m, effectiveFrom = from },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, changed.StatusCode);
            var deployment = (await changed.Content.ReadFromJsonAsync<JsonObject>())!["deployments"]![0]!;
            Assert.Equal(5m, deployment["priceNow"]!["input"]!.GetValue<decimal>());
            Assert.Equal(1m, deployment["price"]!["input"]!.GetValue<decimal>());
        }
        await ChatAsync();
        var records = (await _host.WaitForRecordsAsync(2)).OrderBy(r => r["at"]!.GetValue<DateTimeOffset>()).ToList();
        Assert.Equal(1m, records[0]["price"]!["input"]!.GetValue<decimal>());
        Assert.Equal(5m, records[1]["price"]!["input"]!.GetValue<decimal>());
        Assert.Equal(7m, records[1]["price"]!["output"]!.GetValue<decimal>());

        // Kept across a rebuild of the catalog from storage: the route lists the change after a second one is added.
        using (var later = await _host.Admin.PostAsJsonAsync("api/models/announced/prices", new
        {
            provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 6m, output = 8m, effectiveFrom = from.AddDays(30) },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, later.StatusCode);
        }
        var route = await RouteAsync("announced");
        Assert.Equal([5m, 6m], route["deployments"]![0]!["priceChanges"]!.AsArray().Select(p => p!["input"]!.GetValue<decimal>()));
        Assert.Equal(5m, route["deployments"]![0]!["priceNow"]!["input"]!.GetValue<decimal>());

        var audit = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/audit?action=model.price_changed"))!["entries"]!.AsArray();
        Assert.Equal(2, audit.Count);
        Assert.All(audit, e => Assert.Equal("announced", e!["targetId"]!.GetValue<string>()));
        Assert.Equal(6m, audit[0]!["details"]!["input"]!.GetValue<decimal>());
    }

    [Theory]
    [InlineData("""{"provider":"fake","model":"fake-chat","price":{"currency":"USD","input":1,"output":1,"effectiveFrom":"2020-01-01T00:00:00Z"}}""", "price.effectiveFrom")]
    [InlineData("""{"provider":"fake","model":"fake-chat","price":{"currency":"USD","input":1,"output":1}}""", "price.effectiveFrom")]
    [InlineData("""{"provider":"fake","model":"fake-chat"}""", "price")]
    [InlineData("""{"provider":"fake","model":"other","price":{"currency":"USD","input":1,"output":1,"effectiveFrom":"2030-01-01T00:00:00Z"}}""", "provider")]
    [InlineData("""{"provider":"fake","model":"fake-chat","price":{"currency":"CNY","input":1,"output":1,"effectiveFrom":"2030-01-01T00:00:00Z"}}""", "price.currency")]
    [InlineData("""{"provider":"fake","model":"fake-chat","price":{"currency":"USD","input":-1,"output":1,"effectiveFrom":"2030-01-01T00:00:00Z"}}""", "price.input")]
    [InlineData("""{"provider":"fake","model":"fake-chat","price":{"currency":"USD","input":1,"output":1e9,"effectiveFrom":"2030-01-01T00:00:00Z"}}""", "price.output")]
    public async Task Bad_price_changes_for_a_route_are_refused_naming_the_field_and_change_nothing(string body, string field)
    {
        var before = (await CreateRouteAsync("steady"))["deployments"]!.ToJsonString();
        using var response = await _host.Admin.PostAsync("api/models/steady/prices", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, problem);
        Assert.Contains(field, JsonNode.Parse(problem)!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(before, (await RouteAsync("steady"))["deployments"]!.ToJsonString());
    }

    [Fact]
    public async Task A_price_change_for_a_config_route_or_an_unknown_one_is_refused()
    {
        var body = new { provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 1m, output = 1m, effectiveFrom = DateTimeOffset.UtcNow.AddDays(1) } };
        using var config = await _host.Admin.PostAsJsonAsync("api/models/chat/prices", body);
        Assert.Equal(HttpStatusCode.Conflict, config.StatusCode);
        Assert.Contains("configuration file", await config.Content.ReadAsStringAsync());
        using var unknown = await _host.Admin.PostAsJsonAsync("api/models/nowhere/prices", body);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public void Cached_and_reasoning_tokens_are_priced_where_the_vendor_reports_them()
    {
        using var doc = JsonDocument.Parse("""
            {"usage":{"prompt_tokens":1000,"completion_tokens":500,"prompt_tokens_details":{"cached_tokens":400},
             "completion_tokens_details":{"reasoning_tokens":300}}}
            """);
        Assert.True(UsageFigures.TryRead(doc.RootElement, out var usage));
        Assert.Equal((1000, 400, 500, 300), (usage.Input, usage.Cached, usage.Output, usage.Reasoning));
        var price = new Price(Currency.USD, Input: 2m, Output: 8m, CachedInput: 0.5m, Reasoning: 10m);
        // 600 × 2 + 400 × 0.5 + 200 × 8 + 300 × 10, per million
        Assert.Equal(0.006m, Cost.Of(price, usage.Input, usage.Cached, usage.Output, usage.Reasoning));
        Assert.Equal(0.0054m, Cost.Of(price with { Reasoning = null }, usage.Input, usage.Cached, usage.Output, usage.Reasoning));
    }
}
