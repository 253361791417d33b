using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Tests.Support;

namespace Mulan.Tests.Governance;

/// <summary>Key budgets under concurrent load: reserved before the upstream call, settled to the actual cost.</summary>
public sealed class BudgetTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [ { "name": "fake", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" } ],
          "models": [
            { "name": "pricey", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=12", "price": { "currency": "USD", "input": 100, "output": 200 } } ] },
            { "name": "pricey-cny", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=12", "price": { "currency": "CNY", "input": 700, "output": 1400 } } ] }
          ]
        }
        """;

    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync(Catalog, b => b.Configuration["Governance:ExchangeRates:USD_CNY"] = "7");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static object Chat(string model, int i, bool stream) => new
    {
        model, stream, max_tokens = 12, messages = new[] { new { role = "user", content = $"request {i}" } },
    };

    [Fact]
    public async Task A_thousand_concurrent_requests_never_overshoot_a_budget_worth_about_fifty()
    {
        // One request: about 12 prompt and 12 output tokens, so about 0.0036 USD; the budget holds about fifty.
        const decimal budget = 0.18m;
        using var client = _host.Client(await _host.CreateKeyAsync(new { name = "budgeted", budget = new { amount = budget, currency = "USD", period = "day" } }));
        var statuses = new HttpStatusCode[1000];
        await Parallel.ForEachAsync(Enumerable.Range(0, statuses.Length), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, ct) =>
        {
            using var response = await client.PostAsJsonAsync("v1/chat/completions", Chat("pricey", i, stream: i % 2 == 0), ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            statuses[i] = response.StatusCode;
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Contains("budget_exceeded", body);
            }
        });
        var served = statuses.Count(s => s == HttpStatusCode.OK);
        Assert.Equal(1000, served + statuses.Count(s => s == HttpStatusCode.TooManyRequests));

        var records = await _host.WaitForRecordsAsync(1000);
        var ok = records.Where(r => r["status"]!.GetValue<string>() == "ok").ToList();
        Assert.Equal(served, ok.Count);
        var spent = ok.Sum(r => r["cost"]!["amount"]!.GetValue<decimal>());
        var mostExpensive = ok.Max(r => r["cost"]!["amount"]!.GetValue<decimal>());
        Assert.True(spent <= budget, $"spent {spent} of {budget}");
        // Admission is not needlessly strict either: what is left is less than one more request.
        Assert.True(budget - spent < 2 * mostExpensive, $"spent {spent} of {budget}, one request {mostExpensive}");
        Assert.InRange(served, 40, 60);

        // Crossing 80% and the first refusal each left one alert in the audit log.
        foreach (var action in new[] { "budget.threshold_reached", "budget.exhausted" })
        {
            JsonArray entries = [];
            for (var wait = 0; wait < 50 && entries.Count == 0; wait++)
            {
                entries = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/audit?action={action}"))!["entries"]!.AsArray();
                await Task.Delay(wait == 0 ? 0 : 100);
            }
            var entry = Assert.Single(entries)!;
            Assert.Equal("system", entry["actor"]!.GetValue<string>());
            Assert.Equal("key", entry["targetType"]!.GetValue<string>());
            Assert.Equal(budget, entry["details"]!["amount"]!.GetValue<decimal>());
        }

        // The ledger equals the vendor's bills, request by request.
        var bills = _host.Vendor.Ledger.Bills;
        Assert.Equal(served, bills.Count);
        foreach (var record in ok)
        {
            var bill = Assert.Single(bills, b => b.MulanRequestId == record["requestId"]!.GetValue<string>());
            Assert.Equal(BillOutcome.Completed, bill.Outcome);
            Assert.Equal(bill.PromptTokens, record["inputTokens"]!.GetValue<int>());
            Assert.Equal(bill.CompletionTokens, record["outputTokens"]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task A_budget_in_another_currency_is_counted_at_the_configured_rate()
    {
        // 0.0252 CNY a request is 0.0036 USD: a 0.01 USD budget holds two.
        using var client = _host.Client(await _host.CreateKeyAsync(new { name = "usd-budget", budget = new { amount = 0.01m, currency = "USD", period = "month" } }));
        for (var i = 0; i < 2; i++)
        {
            using var ok = await client.PostAsJsonAsync("v1/chat/completions", Chat("pricey-cny", i, stream: false));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var refused = await client.PostAsJsonAsync("v1/chat/completions", Chat("pricey-cny", 2, stream: false));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var error = (await refused.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal("budget_exceeded", error["code"]!.GetValue<string>());
        Assert.Contains("month budget of 0.01 USD", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_restart_remembers_what_was_spent()
    {
        var data = Directory.CreateTempSubdirectory("mulan-budget-").FullName;
        var first = await MulanHost.StartAsync(Catalog, dataDirectory: data);
        var vendor = first.Vendor;
        var key = await first.CreateKeyAsync(new { name = "remembered", models = new[] { "pricey" }, budget = new { amount = 0.005m, currency = "USD", period = "total" } });
        using (var client = first.Client(key))
        {
            using var ok = await client.PostAsJsonAsync("v1/chat/completions", Chat("pricey", 0, stream: true));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            await ok.Content.ReadAsStringAsync();
        }
        await first.StopKeepingDataAsync();

        await using var second = await MulanHost.StartAsync(Catalog, dataDirectory: data, vendor: vendor);
        using var again = second.Client(key);
        using var refused = await again.PostAsJsonAsync("v1/chat/completions", Chat("pricey", 1, stream: false));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("budget_exceeded", await refused.Content.ReadAsStringAsync());
        Assert.Single(vendor.Ledger.Bills);
    }
}
