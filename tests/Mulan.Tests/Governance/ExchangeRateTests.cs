using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Access;
using Mulan.FakeVendor;
using Mulan.Governance.Budgets;
using Mulan.Hosting;
using Mulan.Tests.Support;

namespace Mulan.Tests.Governance;

/// <summary>
/// Budgets in one currency over models priced in another: charged at the exchange rate in effect when the request
/// arrived (rates are versioned like prices), the usage record keeping the original cost and currency; and where no rate
/// exists, the budget (or the model) is refused when it is set up, never accepted and then refused on every call.
/// </summary>
public sealed class ExchangeRateTests
{
    private const string Providers = """ "providers": [ { "name": "fake", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" } ] """;
    private const string UsdModel = """{ "name": "pricey", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=12", "price": { "currency": "USD", "input": 100, "output": 200 } } ] }""";
    private const string CnyModel = """{ "name": "pricey-cny", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=12", "price": { "currency": "CNY", "input": 700, "output": 1400 } } ] }""";

    private static string Catalog(string models, string? rates = null) =>
        $$"""{ {{Providers}}, "models": [ {{models}} ]{{(rates is null ? "" : $", \"exchangeRates\": {rates}")}} }""";

    private static object Chat(string model, int i) => new { model, max_tokens = 12, messages = new[] { new { role = "user", content = $"request {i}" } } };

    private static async Task<JsonObject> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task Without_a_rate_a_budget_that_could_never_be_charged_is_refused_when_created()
    {
        // Before: the key was created, and then every request of model "pricey" answered 400 budget_currency_mismatch.
        await using var host = await MulanHost.StartAsync(Catalog($"{UsdModel}, {CnyModel}"));

        var key = await ProblemAsync(await host.Admin.PostAsJsonAsync("api/keys", new { name = "cny", budget = new { amount = 1, currency = "CNY", period = "day" } }));
        var workspace = await ProblemAsync(await host.Admin.PostAsJsonAsync("api/workspaces", new { name = "w", budget = new { amount = 1, currency = "USD", period = "day" } }));
        var limits = await ProblemAsync(await host.Admin.PutAsJsonAsync("api/workspaces/default/limits", new { budget = new { amount = 1, currency = "CNY", period = "month" } }));

        foreach (var (problem, priced, budget) in new[] { (key, "USD", "CNY"), (workspace, "CNY", "USD"), (limits, "USD", "CNY") })
        {
            var message = problem["errors"]!["budget.currency"]![0]!.GetValue<string>();
            Assert.Contains($"no exchange rate between {priced} and {budget}", message);
            Assert.Contains("exchangeRates", message);
        }
        // A key limited to models in its own currency needs no rate.
        using var limited = await host.Admin.PostAsJsonAsync("api/keys", new { name = "cny-only", models = new[] { "pricey-cny" }, budget = new { amount = 1, currency = "CNY", period = "day" } });
        Assert.Equal(HttpStatusCode.Created, limited.StatusCode);
        Assert.Empty(host.Vendor.Requests);
    }

    [Fact]
    public async Task A_model_that_a_budget_over_every_model_could_never_be_charged_for_is_refused_until_a_rate_is_added()
    {
        await using var host = await MulanHost.StartAsync(Catalog(UsdModel));
        await host.CreateKeyAsync(new { name = "usd", budget = new { amount = 1, currency = "USD", period = "day" } });
        var model = new
        {
            name = "priced-in-cny",
            deployments = new[] { new { provider = "fake", model = "fake-chat", price = new { currency = "CNY", input = 1m, output = 2m } } },
        };

        var refused = await ProblemAsync(await host.Admin.PostAsJsonAsync("api/models", model));
        var message = refused["errors"]!["model.deployments[0].price.currency"]![0]!.GetValue<string>();
        Assert.Contains("no exchange rate between CNY and USD", message);
        Assert.Contains("key 'usd'", message);

        using var rate = await host.Admin.PostAsJsonAsync("api/exchange-rates", new { from = "USD", to = "CNY", rate = 7.2m });
        Assert.Equal(HttpStatusCode.Created, rate.StatusCode);
        using var added = await host.Admin.PostAsJsonAsync("api/models", model);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var audit = (await host.Admin.GetFromJsonAsync<JsonObject>("api/audit?action=exchange_rate.created"))!["entries"]!.AsArray();
        Assert.Equal(7.2m, Assert.Single(audit)!["details"]!["rate"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Reservations_and_settlement_are_in_the_budgets_currency_at_the_rate_of_the_request_time()
    {
        await using var host = await MulanHost.StartAsync(Catalog(UsdModel, """[ { "from": "USD", "to": "CNY", "rate": 7, "effectiveFrom": "2026-01-01T00:00:00Z" } ]"""));
        // One request: 12 prompt + 12 output tokens at most, 0.0036 USD, 0.0252 CNY. A 0.03 CNY budget holds one, not eight.
        var secret = await host.CreateKeyAsync(new { name = "cny", budget = new { amount = 0.03m, currency = "CNY", period = "day" } });
        using var client = host.Client(secret);
        using (var first = await client.PostAsJsonAsync("v1/chat/completions", Chat("pricey", 0)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("USD", first.Headers.GetValues("x-mulan-cost-currency").Single());
        }
        using var second = await client.PostAsJsonAsync("v1/chat/completions", Chat("pricey", 1));
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains("budget of 0.03 CNY", (await second.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["message"]!.GetValue<string>());

        var record = Assert.Single(await host.UsageRecordsAsync(), r => r["status"]!.GetValue<string>() == "ok");
        var cost = record["cost"]!["amount"]!.GetValue<decimal>();
        Assert.Equal("USD", record["cost"]!["currency"]!.GetValue<string>());
        var bill = Assert.Single(host.Vendor.Ledger.Bills);
        Assert.Equal(((bill.PromptTokens * 100m) + (bill.CompletionTokens * 200m)) / 1_000_000m, cost);
        Assert.Equal(cost * 7, await SpentAsync(host, secret));
    }

    [Fact]
    public async Task A_request_for_n_choices_reserves_n_times_its_output_cap()
    {
        await using var host = await MulanHost.StartAsync(Catalog(UsdModel));
        // One choice: at most about 0.0036 USD; 128 choices: about 0.31 USD, more than the 0.1 budget.
        using var client = host.Client(await host.CreateKeyAsync(new { name = "n", budget = new { amount = 0.1m, currency = "USD", period = "day" } }));
        using var many = await client.PostAsJsonAsync("v1/chat/completions", new { model = "pricey", n = 128, max_tokens = 12, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.TooManyRequests, many.StatusCode);
        using var one = await client.PostAsJsonAsync("v1/chat/completions", new { model = "pricey", n = 1, max_tokens = 12, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
    }

    [Fact]
    public async Task A_new_rate_version_applies_from_its_time_and_earlier_requests_keep_theirs()
    {
        await using var host = await MulanHost.StartAsync(Catalog(UsdModel, """[ { "from": "CNY", "to": "USD", "rate": 0.125 } ]"""));
        var secret = await host.CreateKeyAsync(new { name = "cny", budget = new { amount = 100m, currency = "CNY", period = "month" } });
        using var client = host.Client(secret);
        (await client.PostAsJsonAsync("v1/chat/completions", Chat("pricey", 0))).EnsureSuccessStatusCode();
        // The inverse of 0.125 CNY→USD is 8 CNY a USD.
        var first = (await host.UsageRecordsAsync()).Single()["cost"]!["amount"]!.GetValue<decimal>();
        Assert.Equal(first * 8, await SpentAsync(host, secret));

        using (var version = await host.Admin.PostAsJsonAsync("api/exchange-rates", new { from = "USD", to = "CNY", rate = 10m, effectiveFrom = DateTimeOffset.UtcNow.AddSeconds(-1) }))
        {
            Assert.Equal(HttpStatusCode.Created, version.StatusCode);
        }
        using (var future = await host.Admin.PostAsJsonAsync("api/exchange-rates", new { from = "USD", to = "CNY", rate = 1000m, effectiveFrom = DateTimeOffset.UtcNow.AddDays(30) }))
        {
            Assert.Equal(HttpStatusCode.Created, future.StatusCode);
        }
        (await client.PostAsJsonAsync("v1/chat/completions", Chat("pricey", 1))).EnsureSuccessStatusCode();
        var records = (await host.UsageRecordsAsync()).OrderBy(r => r["at"]!.GetValue<DateTimeOffset>()).ToList();
        var second = records[1]["cost"]!["amount"]!.GetValue<decimal>();
        Assert.All(records, r => Assert.Equal("USD", r["cost"]!["currency"]!.GetValue<string>()));
        Assert.Equal((first * 8) + (second * 10), await SpentAsync(host, secret));

        var listed = (await host.Admin.GetFromJsonAsync<JsonObject>("api/exchange-rates"))!["rates"]!.AsArray();
        Assert.Equal(["config CNY→USD 0.125", "api USD→CNY 10", "api USD→CNY 1000"],
            listed.Select(r => $"{r!["source"]} {r["from"]}→{r["to"]} {r["rate"]}"));
    }

    [Fact]
    public async Task Rates_added_through_the_api_survive_a_restart()
    {
        var data = Directory.CreateTempSubdirectory("mulan-rates-").FullName;
        var first = await MulanHost.StartAsync(Catalog(UsdModel), dataDirectory: data);
        var vendor = first.Vendor;
        (await first.Admin.PostAsJsonAsync("api/exchange-rates", new { from = "USD", to = "CNY", rate = 7.3m })).EnsureSuccessStatusCode();
        await first.StopKeepingDataAsync();

        await using var second = await MulanHost.StartAsync(Catalog(UsdModel), dataDirectory: data, vendor: vendor);
        using var created = await second.Admin.PostAsJsonAsync("api/keys", new { name = "cny", budget = new { amount = 1, currency = "CNY", period = "day" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Theory]
    [InlineData("""{"from":"EUR","to":"CNY","rate":7}""", "from")]
    [InlineData("""{"from":"USD","to":"usd","rate":7}""", "to")]
    [InlineData("""{"from":"USD","to":"CNY"}""", "rate")]
    [InlineData("""{"from":"USD","to":"CNY","rate":0}""", "rate")]
    [InlineData("""{"from":"USD","to":"CNY","rate":7.1}""", "effectiveFrom")]
    [InlineData("""{"from":"CNY","to":"USD","rate":0.14}""", "effectiveFrom")]
    public async Task Bad_rates_are_refused_naming_the_field(string body, string field)
    {
        await using var host = await MulanHost.StartAsync();
        using var response = await host.Admin.PostAsync("api/exchange-rates", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await ProblemAsync(response);
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task A_bad_rate_in_the_configuration_file_stops_start_up_naming_it()
    {
        await using var vendor = await FakeVendorServer.StartAsync();
        var error = await Assert.ThrowsAsync<StartupException>(() => MulanHost.StartAsync(
            Catalog(UsdModel, """[ { "from": "USD", "to": "CNY", "rate": -7 }, { "from": "USD", "to": "JPY", "rate": 150 } ]"""), vendor: vendor));
        Assert.Contains("exchangeRates[0].rate", error.Message);
        Assert.Contains("exchangeRates[1].to", error.Message);
    }

    private static async Task<decimal> SpentAsync(MulanHost host, string secret)
    {
        var key = host.App.Services.GetRequiredService<AccessService>().Authenticate(secret)!;
        var guard = host.App.Services.GetRequiredService<BudgetGuard>();
        var (held, standing) = await guard.TryReserveAsync(BudgetGuard.Scope.Of(key), key.Budget!, 0m, (amount, _) => amount, CancellationToken.None);
        await guard.SettleAsync(held!, 0m);
        Assert.Equal(0m, standing.Reserved);
        return standing.Spent;
    }
}
