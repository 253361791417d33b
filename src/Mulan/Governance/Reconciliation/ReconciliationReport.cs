using System.Text.Json.Serialization;

namespace Mulan.Governance.Reconciliation;

/// <summary>A vendor's bill set against the ledger, one row per UTC day, vendor model and currency.</summary>
/// <param name="Currency">the currency of <paramref name="Totals"/>: the one most rows are in.</param>
/// <param name="TotalsByCurrency">every currency's totals (one entry unless the bill or the ledger mixes currencies).</param>
public sealed record ReconciliationReport(string Provider, DateOnly From, DateOnly To, string Currency, decimal Tolerance,
    IReadOnlyList<ReconciliationRow> Rows, ReconciliationTotals Totals, IReadOnlyList<CurrencyTotals> TotalsByCurrency);

/// <param name="Vendor">null when the bill has no such row.</param>
/// <param name="Ledger">null when the ledger has no such row.</param>
/// <param name="Note">why a row is <c>currency_mismatch</c>.</param>
public sealed record ReconciliationRow(DateOnly Date, string Model, string Currency, string Status, VendorSide? Vendor, LedgerSide? Ledger,
    RowDifference Difference, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Note);

/// <summary>The bill's figures; input, output and cached tokens only when the bill has those columns.</summary>
/// <param name="Lines">the lines of the file summed into this row.</param>
public sealed record VendorSide(long Tokens,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? InputTokens,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? OutputTokens,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? CachedTokens,
    decimal Amount, IReadOnlyList<int> Lines);

/// <param name="Currency">set only when it differs from the row's (a <c>currency_mismatch</c> row).</param>
public sealed record LedgerSide(long Requests, long InputTokens, long CachedTokens, long OutputTokens, decimal Amount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Currency);

/// <summary>Vendor minus ledger: positive when the vendor charges more than Mulan recorded.</summary>
/// <param name="Amount">null when the two sides are in different currencies (Mulan does not convert).</param>
public sealed record RowDifference(long Tokens,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? InputTokens,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? OutputTokens,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? CachedTokens,
    decimal? Amount);

public sealed record ReconciliationTotals(decimal VendorAmount, decimal LedgerAmount, decimal Difference);

public sealed record CurrencyTotals(string Currency, decimal VendorAmount, decimal LedgerAmount, decimal Difference);

/// <summary>The values of <see cref="ReconciliationRow.Status"/>.</summary>
public static class ReconciliationStatus
{
    public const string Match = "match";
    public const string Mismatch = "mismatch";
    public const string MissingInLedger = "missing_in_ledger";
    public const string MissingInBill = "missing_in_bill";
    public const string CurrencyMismatch = "currency_mismatch";
}
