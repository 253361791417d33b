using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;

namespace Mulan.Governance.Reconciliation;

/// <summary>
/// The currency of a bill row that does not say: the one the ledger uses for that model that day, else over the
/// bill's dates, else the catalog's price for it, else the one the provider is recorded or priced in. A vendor
/// invoices a model in one currency, so the nearest evidence wins; when it names two currencies the row is ambiguous
/// and the caller is asked for a currency column rather than have Mulan pick one.
/// </summary>
internal sealed class CurrencyGuess(IReadOnlyList<BilledDay> ledger, IReadOnlyCollection<(string VendorModel, Currency Currency)> deployments)
{
    private readonly ILookup<(DateOnly, string), Currency> _byDay = ledger.ToLookup(d => (d.Day, d.VendorModel), d => d.Currency);
    private readonly ILookup<string, Currency> _byModel = ledger.ToLookup(d => d.VendorModel, d => d.Currency, StringComparer.Ordinal);
    private readonly ILookup<string, Currency> _priced = deployments.ToLookup(d => d.VendorModel, d => d.Currency, StringComparer.Ordinal);
    private readonly Currency[] _recorded = [.. ledger.Select(d => d.Currency).Distinct()];
    private readonly Currency[] _pricedAny = [.. deployments.Select(d => d.Currency).Distinct()];

    public Currency? Of(BillRow row, List<BillError> errors)
    {
        IEnumerable<Currency>[] evidence = [_byDay[(row.Date, row.Model)], _byModel[row.Model], _priced[row.Model], _recorded, _pricedAny];
        for (var i = 0; i < evidence.Length; i++)
        {
            var distinct = evidence[i].Distinct().Order().ToList();
            if (distinct.Count == 1)
            {
                return distinct[0];
            }
            if (distinct.Count > 1)
            {
                var where = i switch
                {
                    0 => $"the ledger recorded '{row.Model}' on {row.Date:yyyy-MM-dd}",
                    1 => $"the ledger recorded '{row.Model}' over the bill's dates",
                    2 => $"the catalog prices '{row.Model}'",
                    3 => "the ledger recorded this provider over the bill's dates",
                    _ => "the catalog prices this provider",
                };
                errors.Add(new BillError(row.Line, "currency", $"the bill does not say, and {where} in {string.Join(" and ", distinct)}; add a currency column"));
                return null;
            }
        }
        errors.Add(new BillError(row.Line, "currency", $"the bill does not say, and neither the ledger nor the catalog knows '{row.Model}' for this provider; add a currency column"));
        return null;
    }
}
