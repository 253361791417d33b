using System.Net;
using System.Net.Http.Json;
using Mulan.FakeVendor;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Routing;

/// <summary>1,000 mixed requests (streamed and not) while the first deployment fails 30% of the time at random and
/// the second speaks another protocol (Anthropic Messages), so every fallback is also a translation.</summary>
public sealed class FallbackLoadTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [
            { "name": "primary", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "backup", "kind": "anthropic", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" }
          ],
          "models": [
            { "name": "flaky", "deployments": [
              { "provider": "primary", "model": "fake-chat+chunks=5+failrate=30", "price": { "currency": "USD", "input": 1, "output": 2 } },
              { "provider": "backup", "model": "claude-fake+chunks=7", "price": { "currency": "USD", "input": 10, "output": 20 } } ] }
          ]
        }
        """;

    private MulanHost _host = null!;

    // A threshold the random failures never reach, so the run keeps falling back rather than settling on the backup.
    public async Task InitializeAsync() => _host = await MulanHost.StartAsync(Catalog, b => b.Configuration["Gateway:FailuresBeforeCooldown"] = "100");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Nearly_every_request_succeeds_and_the_ledger_equals_the_vendors_request_by_request()
    {
        using var client = _host.Client(await _host.CreateKeyAsync());
        var statuses = new HttpStatusCode[1000];
        await Parallel.ForEachAsync(Enumerable.Range(0, statuses.Length), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var stream = i % 3 == 0;
            using var response = await client.PostAsJsonAsync("v1/chat/completions",
                new { model = "flaky", stream, messages = new[] { new { role = "user", content = $"request {i}" } } }, ct);
            await response.Content.ReadAsStringAsync(ct);
            statuses[i] = response.StatusCode;
        });
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 999, $"{statuses.Count(s => s != HttpStatusCode.OK)} requests failed");

        var records = await _host.WaitForRecordsAsync(1000);
        Assert.Equal(1000, records.Count);
        var bills = _host.Vendor.Ledger.Bills;
        var failedAttempts = bills.Count(b => b.Outcome == BillOutcome.Failed);
        Assert.InRange(failedAttempts, 200, 400); // about 30% of the first attempts: fallback really happened
        var served = bills.Where(b => b.Outcome == BillOutcome.Completed).ToDictionary(b => b.MulanRequestId!);
        Assert.Equal(1000, served.Count);
        foreach (var record in records)
        {
            var bill = served[record["requestId"]!.GetValue<string>()];
            Assert.Equal(bill.PromptTokens, record["inputTokens"]!.GetValue<int>());
            Assert.Equal(bill.CompletionTokens, record["outputTokens"]!.GetValue<int>());
            Assert.Equal(bill.Model.Contains("failrate", StringComparison.Ordinal) ? "primary" : "backup", record["provider"]!.GetValue<string>());
        }
    }
}
