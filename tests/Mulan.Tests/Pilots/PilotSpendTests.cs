using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Tests.Support;

namespace Mulan.Tests.Pilots;

/// <summary>A pilot's spend: whole UTC days come from the daily rollup, other windows from the records; both exact.</summary>
public sealed class PilotSpendTests
{
    private static readonly UsageRecord[] Records =
    [
        Record("2025-03-01T00:00:00Z", "k1", "chat", 0.45m),
        Record("2025-03-01T23:59:59.999Z", "k1", "chat", 0.09m),
        Record("2025-03-01T12:00:00Z", "k2", "chat", 0.000000001m, vendorModel: "fake-chat+chunks=64"),
        Record("2025-03-01T12:00:01Z", "k2", "chat", 0m, status: UsageStatus.Rejected, provider: null, vendorModel: null, currency: null),
        Record("2025-03-02T10:00:00Z", "k1", "chat", 1.5m, currency: Currency.CNY),
        Record("2025-03-02T10:00:01Z", "k3", "qa", 0.25m, app: "app_1"),
        Record("2025-03-02T10:00:02Z", "k3", "qa", 0.25m, app: "app_1"),
        Record("2025-03-02T10:00:03Z", "k3", "chat", 9m),
        Record("2025-03-03T08:00:00Z", "k2", "chat", 0.2m, app: "app_2"),
        Record("2025-03-03T09:00:00Z", "k1", "chat", 5m, workspace: "other"),
        Record("2025-02-28T23:59:59.999Z", "k1", "chat", 7m),
        Record("2025-03-04T00:00:00Z", "k1", "chat", 9m),
        Record("2025-03-02T11:00:00Z", "k9", "chat", 0.7m, evaluationRun: "evr_1"),
        Record("2025-03-02T11:00:01Z", "k9", "chat", 0.3m, evaluationRun: "evr_2"),
        Record("2025-03-02T11:00:02Z", "k1", "chat", 0.1m, evaluationRun: "evr_1"),
    ];

    [Fact]
    public async Task Spend_over_whole_days_and_over_any_window_is_the_exact_sum_of_the_records_by_day_model_app_and_currency()
    {
        await using var host = await MulanHost.StartAsync();
        var store = host.App.Services.GetRequiredService<IUsageStore>();
        // In two appends, the second after the first committed: the rollup adds to the rows the first made.
        await store.AppendAsync(Records[..6], CancellationToken.None);
        await store.AppendAsync(Records[6..], CancellationToken.None);

        foreach (var (from, to) in new[] { ("2025-03-01T00:00:00Z", "2025-03-04T00:00:00Z"), ("2025-03-01T12:00:00.500Z", "2025-03-03T08:00:00Z") })
        {
            var (f, t) = (At(from), At(to));
            var spend = await store.AttributedSpendAsync("default", ["app_1"], ["k1", "k2"], ["evr_1"], f, t, CancellationToken.None);
            var expected = Records.Where(r => r.WorkspaceId == "default" && r.At >= f && r.At < t && (r.AppId == "app_1" || r.KeyId is "k1" or "k2" || r.EvaluationRunId == "evr_1"))
                .GroupBy(r => (Day: DateOnly.FromDateTime(r.At.UtcDateTime), r.Model, r.Provider, r.VendorModel, r.AppId, Currency: r.Currency?.ToString()))
                .OrderBy(g => g.Key.Day).ThenBy(g => g.Key.Model, StringComparer.Ordinal).ThenBy(g => g.Key.Provider, StringComparer.Ordinal)
                .ThenBy(g => g.Key.VendorModel, StringComparer.Ordinal).ThenBy(g => g.Key.AppId, StringComparer.Ordinal).ThenBy(g => g.Key.Currency, StringComparer.Ordinal)
                .Select(g => new AttributedSpend(g.Key.Day, g.Key.Model, g.Key.Provider, g.Key.VendorModel, g.Key.AppId, g.Key.Currency, g.Count(), g.Sum(r => r.Cost)))
                .ToList();
            Assert.True(expected.Count >= 4, "the window must cover several groups");
            Assert.Equal(expected, spend);
        }
    }

    private static DateTimeOffset At(string at) => DateTimeOffset.Parse(at, CultureInfo.InvariantCulture);

    private static UsageRecord Record(string at, string key, string model, decimal cost, UsageStatus status = UsageStatus.Ok, string? provider = "fake",
        string? vendorModel = "fake-chat", Currency? currency = Currency.USD, string? app = null, string workspace = "default", string? evaluationRun = null) => new()
    {
        RequestId = Guid.NewGuid().ToString("N"), At = At(at), WorkspaceId = workspace, KeyId = key, Endpoint = "chat.completions", Model = model,
        Provider = provider, VendorModel = vendorModel, InputTokens = 10, OutputTokens = 5, Cost = cost, Currency = currency, Status = status,
        Source = UsageSource.Reported, HttpStatus = 200, AppId = app, EvaluationRunId = evaluationRun,
    };
}
