using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway.Metering;

/// <summary>
/// <c>/api/usage/summary</c> against records written through the real ledger: every sum equals the sum of the records,
/// the p95 is within the histogram's stated 12 % of the exact nearest-rank p95, days follow the time zone asked for,
/// and the CSV export holds every record, inert for spreadsheets.
/// </summary>
public sealed class UsageSummaryTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private bool _stopped;
    private string _main = "", _other = "", _catalog = "";
    private readonly List<UsageRecord> _records = [];
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-03-02T00:00:00Z", CultureInfo.InvariantCulture);

    public async Task InitializeAsync()
    {
        // No exchange rate at first, so that costs in another currency show as unconverted.
        var catalog = MulanHost.DefaultCatalog.Replace("""
            ],
              "exchangeRates": [ { "from": "USD", "to": "CNY", "rate": 7.1 } ]
            """, "]", StringComparison.Ordinal);
        Assert.DoesNotContain("exchangeRates", catalog, StringComparison.Ordinal);
        _catalog = catalog;
        _host = await MulanHost.StartAsync(catalog);
        _main = await WorkspaceAsync("main");
        _other = await WorkspaceAsync("other");
        var random = new Random(7);
        string[] models = ["chat-a", "chat-b", "embed-c"];
        string[] providers = ["vendor-x", "vendor-y"];
        UsageStatus[] statuses = [UsageStatus.Ok, UsageStatus.Ok, UsageStatus.Ok, UsageStatus.UpstreamError, UsageStatus.Rejected, UsageStatus.ClientAborted, UsageStatus.Cached];
        for (var i = 0; i < 3000; i++)
        {
            var currency = i % 5 == 0 ? Currency.USD : Currency.CNY;
            _records.Add(new UsageRecord
            {
                RequestId = $"req-{i:00000}",
                // Three days, spread over every hour.
                At = Start.AddMinutes(random.Next(0, 3 * 24 * 60)),
                WorkspaceId = i % 7 == 0 ? _other : _main,
                KeyId = $"key-{i % 4}",
                Endpoint = "chat.completions",
                Model = models[i % models.Length],
                Provider = i % 11 == 0 ? null : providers[i % providers.Length],
                InputTokens = random.Next(1, 5000),
                OutputTokens = random.Next(0, 2000),
                Cost = Math.Round((decimal)random.NextDouble() / 100m, 9),
                Currency = currency,
                // Log-uniform from 0.3 ms to 30 s: every part of the histogram is used.
                LatencyMs = Math.Round(Math.Exp(Math.Log(0.3) + random.NextDouble() * (Math.Log(30_000) - Math.Log(0.3))), 3),
                Status = statuses[i % statuses.Length],
                AppId = i % 3 == 0 ? "app-1" : null,
            });
        }
        await _host.App.Services.GetRequiredService<IUsageStore>().AppendAsync(_records, CancellationToken.None);
    }

    private async Task<string> WorkspaceAsync(string name)
    {
        var response = await _host.Admin.PostAsJsonAsync("/api/workspaces", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
    }

    public async Task DisposeAsync()
    {
        if (_stopped)
        {
            await _host.Vendor.DisposeAsync();
            return;
        }
        await _host.DisposeAsync();
    }

    private async Task<JsonObject> SummaryAsync(string query)
    {
        var response = await _host.Admin.GetAsync("/api/usage/summary?" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    private static string Window(DateTimeOffset from, DateTimeOffset to) =>
        $"from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}";

    private static double ExactP95(IEnumerable<UsageRecord> records)
    {
        var sorted = records.Select(r => r.LatencyMs).Order().ToArray();
        return sorted[(int)Math.Ceiling(0.95 * sorted.Length) - 1];
    }

    private static bool IsError(UsageRecord r) => r.Status is UsageStatus.UpstreamError or UsageStatus.Rejected;

    [Fact]
    public async Task Groups_by_model_sum_exactly_to_the_records_and_p95_is_within_the_histogram_bound()
    {
        var summary = await SummaryAsync($"workspace=main&by=model&currency=CNY&{Window(Start, Start.AddDays(3))}");
        var main = _records.Where(r => r.WorkspaceId == _main).ToList();
        Assert.Equal("CNY", (string?)summary["currency"]);
        var totals = summary["totals"]!;
        Assert.Equal(main.Count, (long)totals["requests"]!);
        Assert.Equal(main.Count(IsError), (long)totals["errors"]!);
        Assert.Equal(main.Sum(r => r.InputTokens), (long)totals["inputTokens"]!);
        Assert.Equal(main.Sum(r => r.OutputTokens), (long)totals["outputTokens"]!);
        // No USD→CNY rate is configured: the USD costs are reported apart, never silently added.
        Assert.Equal(main.Where(r => r.Currency == Currency.CNY).Sum(r => r.Cost), (decimal)totals["cost"]!["amount"]!);
        var unconverted = totals["unconverted"]!.AsArray().Single()!;
        Assert.Equal("USD", (string?)unconverted["currency"]);
        Assert.Equal(main.Where(r => r.Currency == Currency.USD).Sum(r => r.Cost), (decimal)unconverted["amount"]!);

        var groups = summary["groups"]!.AsArray();
        Assert.Equal(3, groups.Count);
        foreach (var group in groups)
        {
            var of = main.Where(r => r.Model == (string?)group!["key"]).ToList();
            Assert.Equal(of.Count, (long)group!["requests"]!);
            Assert.Equal(of.Count(IsError), (long)group["errors"]!);
            Assert.Equal(Math.Round((double)of.Count(IsError) / of.Count, 4), (double)group["errorRate"]!);
            // Latency is charted per hour and day; per model there is none.
            Assert.Null(group["latencyP95Ms"]);
        }
        Assert.InRange((double)totals["latencyP95Ms"]! / ExactP95(main), 1 / 1.12, 1.12);
    }

    [Fact]
    public async Task A_rate_converts_other_currencies_and_every_workspace_is_summed_without_a_filter()
    {
        var added = await _host.Admin.PostAsJsonAsync("/api/exchange-rates", new { from = "USD", to = "CNY", rate = 7.1m });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var summary = await SummaryAsync($"by=provider&currency=CNY&{Window(Start, Start.AddDays(3))}");
        Assert.Equal(_records.Count, (long)summary["totals"]!["requests"]!);
        var expected = _records.Sum(r => r.Currency == Currency.USD ? r.Cost * 7.1m : r.Cost);
        Assert.Equal(decimal.Round(expected, 9), (decimal)summary["totals"]!["cost"]!["amount"]!);
        Assert.Empty(summary["totals"]!["unconverted"]!.AsArray());
        // Records that reached no provider are a group of their own with a null key.
        var none = summary["groups"]!.AsArray().Single(g => g!["key"] is null)!;
        Assert.Equal(_records.Count(r => r.Provider is null), (long)none["requests"]!);
    }

    [Fact]
    public async Task Days_follow_the_time_zone_and_hours_are_whole()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
        var summary = await SummaryAsync($"workspace=main&by=day&timeZone=Asia/Shanghai&{Window(Start, Start.AddDays(3))}");
        Assert.Equal("Asia/Shanghai", (string?)summary["timeZone"]);
        var expected = _records.Where(r => r.WorkspaceId == _main)
            .GroupBy(r => TimeZoneInfo.ConvertTime(r.At, zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.Count());
        var groups = summary["groups"]!.AsArray();
        Assert.Equal(expected.Keys.Order(), groups.Select(g => (string)g!["key"]!));
        foreach (var g in groups)
        {
            var of = _records.Where(r => r.WorkspaceId == _main && TimeZoneInfo.ConvertTime(r.At, zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) == (string)g!["key"]!).ToList();
            Assert.Equal(expected[(string)g!["key"]!], (long)g["requests"]!);
            Assert.InRange((double)g["latencyP95Ms"]! / ExactP95(of), 1 / 1.12, 1.12);
        }

        // A window of 10:20–11:40 counts the whole hours 10:00–12:00.
        var hours = await SummaryAsync($"workspace=main&by=hour&{Window(Start.AddHours(10).AddMinutes(20), Start.AddHours(11).AddMinutes(40))}");
        Assert.Equal(Start.AddHours(10), DateTimeOffset.Parse((string)hours["from"]!, CultureInfo.InvariantCulture));
        Assert.Equal(Start.AddHours(12), DateTimeOffset.Parse((string)hours["to"]!, CultureInfo.InvariantCulture));
        Assert.Equal(_records.Count(r => r.WorkspaceId == _main && r.At >= Start.AddHours(10) && r.At < Start.AddHours(12)),
            (long)hours["totals"]!["requests"]!);
        Assert.Equal(["2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"], hours["groups"]!.AsArray().Select(g => (string)g!["key"]!));
    }

    [Theory]
    [InlineData("by=vendor", "by")]
    [InlineData("currency=EUR", "currency")]
    [InlineData("currency=cny", "currency")]
    [InlineData("timeZone=Mars/Olympus", "timeZone")]
    [InlineData("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to")]
    [InlineData("from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    [InlineData("by=hour&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "by")]
    [InlineData("workspace=nope", "workspace")]
    public async Task Bad_parameters_are_400_naming_them(string query, string field)
    {
        var response = await _host.Admin.GetAsync("/api/usage/summary?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.NotNull(body["errors"]![field]);
    }

    [Fact]
    public async Task A_gateway_request_is_in_the_summary_of_its_workspace_and_a_key_reads_only_its_own()
    {
        var key = await _host.CreateKeyAsync();
        var client = _host.Client(key);
        var reply = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        var record = (await _host.WaitForRecordsAsync(1, "&workspace=default")).Single();
        var summary = await client.GetFromJsonAsync<JsonObject>($"/api/workspaces/default/usage/summary?by=key");
        var group = summary!["groups"]!.AsArray().Single()!;
        Assert.Equal((string?)record["key"], (string?)group["key"]);
        Assert.Equal(1, (long)group["requests"]!);
        Assert.Equal((long)record["inputTokens"]!, (long)group["inputTokens"]!);
        // The key's name labels its group.
        Assert.NotEqual((string?)group["key"], (string?)group["label"]);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/workspaces/other/usage/summary")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/usage/summary")).StatusCode);
    }

    [Fact]
    public async Task Csv_export_has_every_matching_record_newest_first_and_defuses_formulas()
    {
        await _host.App.Services.GetRequiredService<IUsageStore>().AppendAsync([new UsageRecord
        {
            RequestId = "req-formula", At = Start.AddDays(5), WorkspaceId = _main, KeyId = "key-0", Endpoint = "chat.completions",
            Model = "=HYPERLINK(\"http://evil\",\"x\")", Status = UsageStatus.UpstreamError, Error = "bad, \"quoted\"\nline", LatencyMs = 3,
        }], CancellationToken.None);
        var response = await _host.Admin.GetAsync("/api/usage?format=csv&workspace=main");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.StartsWith(UsageCsv.Header + "\n", text.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
        var ids = text.Split('\n').Skip(1).Where(l => l.Contains(",req-", StringComparison.Ordinal)).Select(l => l.Split(',')[1]).ToList();
        Assert.Equal(_records.Count(r => r.WorkspaceId == _main) + 1, ids.Count);
        Assert.Equal("req-formula", ids[0]);
        Assert.Contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"", text, StringComparison.Ordinal);
        Assert.Contains("\"bad, \"\"quoted\"\"\nline\"", text.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.Admin.GetAsync("/api/usage?format=xml")).StatusCode);
    }

    [SqliteFact]
    public async Task Rollups_that_have_not_seen_an_existing_ledger_fold_it_all_in_at_start_to_the_same_figures()
    {
        var before = await SummaryAsync($"by=model&{Window(Start, Start.AddDays(3))}");
        await _host.StopKeepingDataAsync();
        _stopped = true;
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_host.DataDirectory, "mulan.db")}"))
        {
            await connection.OpenAsync();
            // As migration 20 leaves a ledger written before the rollups existed: empty rollups, nothing folded in yet.
            await connection.ExecuteAsync("DELETE FROM usage_hourly; DELETE FROM usage_latency_hourly; UPDATE usage_rollup SET last_rowid = 0;");
        }
        var host = await MulanHost.StartAsync(_catalog, dataDirectory: _host.DataDirectory);
        try
        {
            var after = await host.Admin.GetFromJsonAsync<JsonObject>($"/api/usage/summary?by=model&{Window(Start, Start.AddDays(3))}");
            Assert.Equal(before["totals"]!.ToJsonString(), after!["totals"]!.ToJsonString());
            Assert.Equal(before["groups"]!.ToJsonString(), after["groups"]!.ToJsonString());
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
