using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;

namespace Mulan.Governance.Reconciliation;

/// <summary>Sets a vendor's bill against the ledger's billed days. Pure: the caller reads the bill and the ledger.</summary>
public static class Reconciler
{
    /// <summary>How far apart the two amounts of a row may be and still match, in units of the row's currency.</summary>
    public const decimal DefaultTolerance = 0.01m;

    /// <param name="deployments">the provider's vendor models with their price currencies in the catalog: where the ledger
    /// is silent, they tell which currency a bill without a currency column is in.</param>
    public static (ReconciliationReport? Report, IReadOnlyList<BillError> Errors) Reconcile(string provider, IReadOnlyList<BillRow> bill,
        IReadOnlyList<BilledDay> ledger, IReadOnlyCollection<(string VendorModel, Currency Currency)> deployments, decimal tolerance)
    {
        ArgumentOutOfRangeException.ThrowIfZero(bill.Count);
        var currencies = new CurrencyGuess(ledger, deployments);
        var errors = new List<BillError>();
        var vendor = new Dictionary<Key, VendorSum>();
        foreach (var row in bill)
        {
            if ((row.Currency ?? currencies.Of(row, errors)) is not { } currency)
            {
                if (errors.Count >= BillReader.MaxErrors)
                {
                    break;
                }
                continue;
            }
            var key = new Key(row.Date, row.Model, currency);
            vendor[key] = vendor.TryGetValue(key, out var sum) ? sum.Add(row) : VendorSum.Of(row);
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var shape = new BillShape(bill[0].InputTokens is not null, bill[0].CachedTokens is not null);
        var books = ledger.ToDictionary(d => new Key(d.Day, d.VendorModel, d.Currency));
        var booksByDay = books.Keys.ToLookup(k => (k.Day, k.Model));
        var paired = new HashSet<Key>();
        var rows = new List<ReconciliationRow>();
        foreach (var (key, v) in vendor)
        {
            if (books.TryGetValue(key, out var l))
            {
                rows.Add(Compare(key, v, l, tolerance, shape));
                continue;
            }
            // The same day and model in another currency, which the bill does not have: one row that says so, rather
            // than a missing_in_ledger row and a missing_in_bill row that look unrelated.
            var other = booksByDay[(key.Day, key.Model)].Where(k => !vendor.ContainsKey(k) && !paired.Contains(k))
                .OrderBy(k => k.Currency).Select(k => (Key?)k).FirstOrDefault();
            if (other is { } o)
            {
                paired.Add(o);
                rows.Add(CurrencyMismatch(key, v, books[o], shape));
            }
            else
            {
                rows.Add(new ReconciliationRow(key.Day, key.Model, key.Currency.ToString(), ReconciliationStatus.MissingInLedger, v.View(),
                    null, v.Difference(null, shape), null));
            }
        }
        foreach (var (key, l) in books.Where(b => !vendor.ContainsKey(b.Key) && !paired.Contains(b.Key)))
        {
            rows.Add(new ReconciliationRow(key.Day, key.Model, key.Currency.ToString(), ReconciliationStatus.MissingInBill, null, View(l, null),
                new RowDifference(-(l.InputTokens + l.OutputTokens), shape.Separate ? -l.InputTokens : null, shape.Separate ? -l.OutputTokens : null,
                    shape.Cached ? -l.CachedTokens : null, Cost.Normalize(-l.Cost)), null));
        }
        rows = [.. rows.OrderBy(r => r.Date).ThenBy(r => r.Model, StringComparer.Ordinal).ThenBy(r => r.Currency, StringComparer.Ordinal)];

        var totals = Totals(rows);
        var main = rows.GroupBy(r => r.Currency).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        var mainTotals = totals.First(t => t.Currency == main);
        return (new ReconciliationReport(provider, bill.Min(r => r.Date), bill.Max(r => r.Date), main, Cost.Normalize(tolerance), rows,
            new ReconciliationTotals(mainTotals.VendorAmount, mainTotals.LedgerAmount, mainTotals.Difference), totals), []);
    }

    private static ReconciliationRow Compare(Key key, VendorSum v, BilledDay l, decimal tolerance, BillShape shape)
    {
        var difference = v.Difference(l, shape);
        var tokensAgree = difference.Tokens == 0 && (difference.InputTokens ?? 0) == 0 && (difference.OutputTokens ?? 0) == 0
            && (difference.CachedTokens ?? 0) == 0;
        var status = tokensAgree && Math.Abs(difference.Amount!.Value) <= tolerance ? ReconciliationStatus.Match : ReconciliationStatus.Mismatch;
        return new ReconciliationRow(key.Day, key.Model, key.Currency.ToString(), status, v.View(), View(l, null), difference, null);
    }

    private static ReconciliationRow CurrencyMismatch(Key key, VendorSum v, BilledDay l, BillShape shape) =>
        new(key.Day, key.Model, key.Currency.ToString(), ReconciliationStatus.CurrencyMismatch, v.View(), View(l, l.Currency.ToString()),
            v.Difference(l, shape) with { Amount = null },
            $"the bill is in {key.Currency}, the ledger recorded {key.Model} in {l.Currency} that day; amounts are not converted");

    private static LedgerSide View(BilledDay l, string? currency) =>
        new(l.Requests, l.InputTokens, l.CachedTokens, l.OutputTokens, l.Cost, currency);

    // Each side's amounts count in their own currency, so a currency_mismatch row adds to two currencies' totals.
    private static List<CurrencyTotals> Totals(List<ReconciliationRow> rows)
    {
        var sums = new SortedDictionary<string, (decimal Vendor, decimal Ledger)>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (row.Vendor is { } v)
            {
                var s = sums.GetValueOrDefault(row.Currency);
                sums[row.Currency] = (s.Vendor + v.Amount, s.Ledger);
            }
            if (row.Ledger is { } l)
            {
                var currency = l.Currency ?? row.Currency;
                var s = sums.GetValueOrDefault(currency);
                sums[currency] = (s.Vendor, s.Ledger + l.Amount);
            }
        }
        return [.. sums.Select(s => new CurrencyTotals(s.Key, Cost.Normalize(s.Value.Vendor), Cost.Normalize(s.Value.Ledger),
            Cost.Normalize(s.Value.Vendor - s.Value.Ledger)))];
    }

    private readonly record struct Key(DateOnly Day, string Model, Currency Currency);

    /// <summary>Which token columns the bill has: its difference rows show the same ones.</summary>
    private readonly record struct BillShape(bool Separate, bool Cached);

    private sealed record VendorSum(long Tokens, long? InputTokens, long? OutputTokens, long? CachedTokens, decimal Amount, List<int> Lines)
    {
        public static VendorSum Of(BillRow r) => new(r.Tokens, r.InputTokens, r.OutputTokens, r.CachedTokens, r.Amount, [r.Line]);

        public VendorSum Add(BillRow r)
        {
            Lines.Add(r.Line);
            return this with
            {
                Tokens = Tokens + r.Tokens, InputTokens = InputTokens + r.InputTokens, OutputTokens = OutputTokens + r.OutputTokens,
                CachedTokens = CachedTokens + r.CachedTokens, Amount = Amount + r.Amount,
            };
        }

        public VendorSide View() => new(Tokens, InputTokens, OutputTokens, CachedTokens, Cost.Normalize(Amount), Lines);

        public RowDifference Difference(BilledDay? l, BillShape shape) => new(
            Tokens - (l is null ? 0 : l.InputTokens + l.OutputTokens),
            shape.Separate ? InputTokens - (l?.InputTokens ?? 0) : null,
            shape.Separate ? OutputTokens - (l?.OutputTokens ?? 0) : null,
            shape.Cached ? CachedTokens - (l?.CachedTokens ?? 0) : null,
            Cost.Normalize(Amount - (l?.Cost ?? 0)));
    }
}
