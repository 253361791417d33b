using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Governance.Currencies;

namespace Mulan.Pilots;

public sealed record Share(string Name, decimal Amount);
public sealed record DaySpend(DateOnly Day, decimal Spend, decimal Effort);
/// <summary>An amount left out of the totals because no exchange rate to the contract currency was in effect.</summary>
public sealed record Unconverted(string Source, string? Currency, decimal Amount, DateOnly Day);

/// <summary>All figures in <see cref="Currency"/> (the contract's), each the exact sum of converted records; nothing is rounded.</summary>
public sealed record LedgerFigures(string Currency, decimal ContractValue, decimal? Budget, decimal Effort, decimal EffortDays, decimal Spend,
    decimal CostToDate, decimal Margin, decimal? MarginRatio, int ElapsedDays, int TotalDays, decimal BurnRatePerDay, decimal Forecast,
    decimal? BudgetUsed, decimal ContractUsed, long Requests,
    IReadOnlyList<Share> EffortByRole, IReadOnlyList<Share> EffortByScopeItem, IReadOnlyList<Share> SpendByVendor, IReadOnlyList<Share> SpendByModel,
    IReadOnlyList<Share> SpendByApp, IReadOnlyList<DaySpend> ByDay, IReadOnlyList<Unconverted> Unconverted);

/// <summary>
/// The cost ledger of a pilot: effort entries and attributed usage converted into the contract currency with the exchange
/// rate in effect on each record's day. An amount in a currency with no rate is listed in <c>Unconverted</c> and left
/// out, never guessed.
/// </summary>
public static class PilotLedger
{
    /// <summary>At noon UTC of <paramref name="day"/>: the rate in effect on a record's day.</summary>
    public static decimal? Convert(ExchangeRateBook rates, decimal amount, string from, string to, DateOnly day) =>
        rates.Convert(amount, from, to, new DateTimeOffset(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero));

    public static LedgerFigures Compute(Pilot pilot, IReadOnlyList<ScopeItem> scope, IReadOnlyList<EffortEntry> effort, IReadOnlyList<AttributedSpend> spend,
        ExchangeRateBook rates, DateOnly today)
    {
        var currency = pilot.ContractValue.Currency;
        var unconverted = new List<Unconverted>();
        var byDay = new SortedDictionary<DateOnly, (decimal Spend, decimal Effort)>();
        var role = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var item = new Dictionary<string, decimal>(StringComparer.Ordinal);
        decimal effortTotal = 0, effortDays = 0, spendTotal = 0;
        long requests = 0;
        foreach (var e in effort)
        {
            effortDays += e.Days;
            if (Convert(rates, e.Amount, e.DayRate.Currency, currency, e.Date) is not { } amount)
            {
                unconverted.Add(new("effort:" + e.Id, e.DayRate.Currency, e.Amount, e.Date));
                continue;
            }
            effortTotal += amount;
            role[e.Role] = role.GetValueOrDefault(e.Role) + amount;
            var key = e.ScopeItem ?? "";
            item[key] = item.GetValueOrDefault(key) + amount;
            var d = byDay.GetValueOrDefault(e.Date);
            byDay[e.Date] = (d.Spend, d.Effort + amount);
        }
        var vendor = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var model = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var app = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var s in spend)
        {
            requests += s.Requests;
            if (s.Cost == 0)
            {
                continue;
            }
            if (s.Currency is null || Convert(rates, s.Cost, s.Currency, currency, s.Day) is not { } amount)
            {
                unconverted.Add(new("usage:" + s.Model, s.Currency, s.Cost, s.Day));
                continue;
            }
            spendTotal += amount;
            var v = s.Provider ?? "";
            vendor[v] = vendor.GetValueOrDefault(v) + amount;
            var m = s.VendorModel is null ? s.Model : $"{s.Model} ({s.VendorModel})";
            model[m] = model.GetValueOrDefault(m) + amount;
            var a = s.AppId ?? "";
            app[a] = app.GetValueOrDefault(a) + amount;
            var d = byDay.GetValueOrDefault(s.Day);
            byDay[s.Day] = (d.Spend + amount, d.Effort);
        }
        var cost = effortTotal + spendTotal;
        var totalDays = pilot.End.DayNumber - pilot.Start.DayNumber + 1;
        var elapsed = Math.Clamp(today.DayNumber - pilot.Start.DayNumber + 1, 0, totalDays);
        var burn = elapsed == 0 ? 0m : cost / elapsed;
        var forecast = cost + burn * (totalDays - elapsed);
        decimal? budget = null, budgetUsed = null;
        if (pilot.Budget is { } b)
        {
            budget = Convert(rates, b.Amount, b.Currency, currency, pilot.Start);
            if (budget is null)
            {
                unconverted.Add(new("budget", b.Currency, b.Amount, pilot.Start));
            }
            else if (budget > 0)
            {
                budgetUsed = spendTotal / budget.Value;
            }
        }
        var contract = pilot.ContractValue.Amount;
        var names = scope.ToDictionary(s => s.Id, s => s.Title, StringComparer.Ordinal);
        static List<Share> Sorted(Dictionary<string, decimal> d) => [.. d.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => new Share(p.Key, p.Value))];
        return new LedgerFigures(currency, contract, budget, effortTotal, effortDays, spendTotal, cost, contract - cost,
            contract == 0 ? null : (contract - cost) / contract, elapsed, totalDays, burn, forecast, budgetUsed, contract == 0 ? 0 : cost / contract, requests,
            Sorted(role), Sorted(item), Sorted(vendor), Sorted(model), Sorted(app),
            [.. byDay.Select(p => new DaySpend(p.Key, p.Value.Spend, p.Value.Effort))], unconverted);
    }
}
