using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Metering;

/// <summary>
/// quality.md §5: after a mixed, concurrent run Mulan's usage ledger equals the vendor's own bill, request by
/// request — streamed and not, include_usage on and off, a vendor that reports no usage, client aborts,
/// resets and error events mid-stream.
/// </summary>
public sealed class LedgerReconciliationTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _key = "";

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        _key = await _host.CreateKeyAsync(new { name = "reconcile" });
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private enum Kind { Plain, Stream, StreamUsage, NoUsage, NoUsageStream, Moonshot, Abort, Reset, ErrorEvent, Embed, Tools }

    [Fact]
    public async Task Mixed_concurrent_run_matches_the_vendor_ledger_request_by_request()
    {
        var plan = Enumerable.Range(0, 66).Select(i => (Kind)(i % 11)).ToList();
        using var http = StreamReading.AbortingClient(_host.BaseUrl, _key);
        using var gate = new SemaphoreSlim(8);
        var clientSaw = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        await Task.WhenAll(plan.Select(async (kind, i) =>
        {
            await gate.WaitAsync();
            try
            {
                var (requestId, status) = await RunAsync(http, kind, $"question {i}: {new string('x', i)}");
                clientSaw[requestId] = status;
            }
            finally
            {
                gate.Release();
            }
        }));

        var records = await _host.WaitForRecordsAsync(plan.Count);
        var bills = await WaitForBillsAsync(plan.Count);
        Assert.Equal(plan.Count, records.Count);
        Assert.Equal(plan.Count, records.Select(r => r["requestId"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(plan.Count, bills.Count);

        var prices = new Dictionary<string, Price>
        {
            ["chat"] = new(Currency.USD, 0.15m, 0.60m, null),
            ["chat-cny"] = new(Currency.CNY, 2m, 8m, 0.5m),
            ["chat-moonshot"] = new(Currency.CNY, 12m, 12m, null),
            ["embed"] = new(Currency.USD, 0.02m, 0m, null),
        };
        foreach (var bill in bills)
        {
            var record = records.Single(r => r["requestId"]!.GetValue<string>() == bill.MulanRequestId);
            var model = record["model"]!.GetValue<string>();
            Assert.True(bill.PromptTokens == record["inputTokens"]!.GetValue<long>(), $"{model} {bill.Outcome}: input {record["inputTokens"]} vs vendor {bill.PromptTokens}");
            Assert.True(bill.CompletionTokens == record["outputTokens"]!.GetValue<long>(), $"{model} {bill.Outcome}: output {record["outputTokens"]} vs vendor {bill.CompletionTokens}");
            Assert.Equal(ExpectedStatus(bill.Outcome), record["status"]!.GetValue<string>());
            Assert.Equal(bill.UsageSent ? "reported" : "estimated", record["usage"]!.GetValue<string>());
            var price = prices.GetValueOrDefault(model, new Price(Currency.USD, 1m, 2m, null));
            Assert.Equal(Cost.Of(price, bill.PromptTokens, 0, bill.CompletionTokens), record["cost"]!["amount"]!.GetValue<decimal>());
            Assert.Equal(price.Currency.ToString(), record["cost"]!["currency"]!.GetValue<string>());
        }

        var usage = await _host.UsageAsync();
        Assert.Equal(plan.Count, usage["totals"]!["requests"]!.GetValue<long>());
        Assert.Equal(bills.Sum(b => (long)b.PromptTokens), usage["totals"]!["inputTokens"]!.GetValue<long>());
        Assert.Equal(bills.Sum(b => (long)b.CompletionTokens), usage["totals"]!["outputTokens"]!.GetValue<long>());
    }

    private static string ExpectedStatus(string outcome) => outcome switch
    {
        BillOutcome.Completed => "ok",
        BillOutcome.ClientAborted => "client_aborted",
        _ => "upstream_error",
    };

    private async Task<IReadOnlyList<VendorBill>> WaitForBillsAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_host.Vendor.Ledger.Bills.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        return _host.Vendor.Ledger.Bills;
    }

    private static async Task<(string RequestId, int Status)> RunAsync(HttpClient http, Kind kind, string content)
    {
        HttpRequestMessage request = kind switch
        {
            Kind.Plain => StreamReading.Chat("chat", stream: false, content: content),
            Kind.Stream => StreamReading.Chat("chat", stream: true, content: content),
            Kind.StreamUsage => StreamReading.Chat("chat-cny", stream: true, includeUsage: true, content: content),
            Kind.NoUsage => StreamReading.Chat("chat-nousage", stream: false, content: content),
            Kind.NoUsageStream => StreamReading.Chat("chat-nousage", stream: true, includeUsage: true, content: content),
            Kind.Moonshot => StreamReading.Chat("chat-moonshot", stream: true, content: content),
            Kind.Abort => StreamReading.Chat("chat-slow", stream: true, content: content),
            Kind.Reset => StreamReading.Chat("chat-reset", stream: true, content: content),
            Kind.ErrorEvent => StreamReading.Chat("chat-errorevent", stream: true, content: content),
            Kind.Tools => StreamReading.Chat("chat-tools", stream: true, content: content),
            _ => new HttpRequestMessage(HttpMethod.Post, "v1/embeddings") { Content = JsonContent.Create(new { model = "embed", input = new[] { content, "second" } }) },
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var requestId = response.Headers.GetValues("x-mulan-request-id").Single();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{kind}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        if (kind is Kind.Plain or Kind.NoUsage or Kind.Embed)
        {
            Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync()));
            return (requestId, 200);
        }
        var events = await StreamReading.ReadEventsAsync(response, kind == Kind.Abort ? 7 : null);
        switch (kind)
        {
            case Kind.Abort:
                Assert.DoesNotContain("[DONE]", events);
                break;
            case Kind.Reset or Kind.ErrorEvent:
                Assert.DoesNotContain("[DONE]", events);
                Assert.Contains("\"error\"", events[^1]);
                break;
            default:
                Assert.Equal("[DONE]", events[^1]);
                Assert.Equal(kind is Kind.StreamUsage or Kind.Moonshot ? 1 : 0, events.Count(e => e.Contains("\"usage\":{")));
                break;
        }
        return (requestId, 200);
    }
}
