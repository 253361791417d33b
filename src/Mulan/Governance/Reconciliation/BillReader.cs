using System.Globalization;
using Mulan.Gateway.Catalog;

namespace Mulan.Governance.Reconciliation;

/// <summary>One row of a vendor's bill; rows for the same day, model and currency are summed when reconciled.</summary>
/// <param name="Line">the line of the file the row starts on.</param>
/// <param name="Currency">null when the bill does not say: the currency the ledger uses for that model applies.</param>
/// <param name="Tokens">the <c>tokens</c> column, else input plus output.</param>
/// <param name="CachedTokens">null when the bill has no <c>cached_tokens</c> column.</param>
public sealed record BillRow(int Line, DateOnly Date, string Model, Currency? Currency, long Tokens, long? InputTokens, long? OutputTokens,
    long? CachedTokens, decimal Amount);

/// <summary>What is wrong with a bill, pointing at a line and, when it is about one, a column.</summary>
public sealed record BillError(int Line, string? Column, string Message)
{
    public override string ToString() => Column is null ? $"line {Line}: {Message}" : $"line {Line}, {Column}: {Message}";
}

/// <summary>Reads a vendor's bill from CSV: a header naming the columns (any case, any order, unknown ones ignored), then rows.</summary>
public static class BillReader
{
    /// <summary>Errors reported for one bill; past this many, the file is likely not a bill at all.</summary>
    public const int MaxErrors = 20;

    // Bounds that keep sums far from overflow: no vendor bills 10^15 tokens or currency units for one row.
    private const long MaxTokens = 1_000_000_000_000_000;
    private const decimal MaxAmount = 1_000_000_000_000_000m;

    public static (IReadOnlyList<BillRow> Rows, IReadOnlyList<BillError> Errors) Read(string text)
    {
        IReadOnlyList<CsvRecord> records;
        try
        {
            records = CsvReader.Read(text);
        }
        catch (CsvFormatException e)
        {
            return ([], [new BillError(e.Line, null, e.Message)]);
        }
        if (records.Count == 0)
        {
            return ([], [new BillError(1, null, "the bill is empty; the first line names the columns: date, model, tokens (or input_tokens and output_tokens), amount")]);
        }
        var header = records[0];
        var (columns, errors) = ReadHeader(header);
        if (errors.Count > 0)
        {
            return ([], errors);
        }
        var rows = new List<BillRow>();
        foreach (var record in records.Skip(1))
        {
            // Spreadsheets export rows of empty cells (",,,,") below the data.
            if (record.Fields.All(string.IsNullOrWhiteSpace))
            {
                continue;
            }
            if (record.Fields.Skip(header.Fields.Count).Any(f => !string.IsNullOrWhiteSpace(f)))
            {
                errors.Add(new BillError(record.Line, null, $"{record.Fields.Count} fields, but the header names {header.Fields.Count} columns"));
            }
            else if (ReadRow(record, columns, errors) is { } row)
            {
                rows.Add(row);
            }
            if (errors.Count >= MaxErrors)
            {
                break;
            }
        }
        if (rows.Count == 0 && errors.Count == 0)
        {
            errors.Add(new BillError(header.Line, null, "the bill has a header but no rows"));
        }
        return errors.Count > 0 ? ([], errors) : (rows, []);
    }

    private static (Dictionary<string, int> Columns, List<BillError> Errors) ReadHeader(CsvRecord header)
    {
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        var errors = new List<BillError>();
        for (var i = 0; i < header.Fields.Count; i++)
        {
            // "Input Tokens", "input-tokens" and "INPUT_TOKENS" all name input_tokens.
            var name = header.Fields[i].Trim().ToLowerInvariant().Replace(' ', '_').Replace('-', '_');
            if (name.Length > 0 && !columns.TryAdd(name, i))
            {
                errors.Add(new BillError(header.Line, name, "the header names this column twice"));
            }
        }
        foreach (var required in new[] { "date", "model", "amount" }.Where(c => !columns.ContainsKey(c)))
        {
            errors.Add(new BillError(header.Line, required, $"no such column; the header names: {string.Join(", ", columns.Keys)}"));
        }
        if (!columns.ContainsKey("tokens"))
        {
            var (input, output) = (columns.ContainsKey("input_tokens"), columns.ContainsKey("output_tokens"));
            if (input != output)
            {
                errors.Add(new BillError(header.Line, input ? "output_tokens" : "input_tokens",
                    "no such column; input_tokens and output_tokens go together (or give a single tokens column)"));
            }
            else if (!input)
            {
                errors.Add(new BillError(header.Line, "tokens", "no such column, nor input_tokens and output_tokens"));
            }
        }
        return (columns, errors);
    }

    private static BillRow? ReadRow(CsvRecord record, Dictionary<string, int> columns, List<BillError> errors)
    {
        var before = errors.Count;
        string? Cell(string column) =>
            columns.TryGetValue(column, out var i) && i < record.Fields.Count && record.Fields[i].Trim() is { Length: > 0 } v ? v : null;
        string? Required(string column)
        {
            var value = Cell(column);
            if (value is null)
            {
                errors.Add(new BillError(record.Line, column, "empty"));
            }
            return value;
        }
        long? Tokens(string column, bool required)
        {
            var value = required ? Required(column) : Cell(column);
            if (value is null)
            {
                return null;
            }
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= MaxTokens)
            {
                return n;
            }
            errors.Add(new BillError(record.Line, column, $"'{value}' is not a whole number of tokens"));
            return null;
        }

        var dateText = Required("date");
        var date = default(DateOnly);
        if (dateText is not null && (!DateOnly.TryParseExact(dateText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date)
            || date.Year is < 1970 or > 9998))
        {
            errors.Add(new BillError(record.Line, "date", $"'{dateText}' is not a date (YYYY-MM-DD)"));
        }
        var model = Required("model");
        var separate = columns.ContainsKey("input_tokens") && columns.ContainsKey("output_tokens");
        var total = columns.ContainsKey("tokens") ? Tokens("tokens", required: true) : null;
        var (input, output) = separate ? (Tokens("input_tokens", required: true), Tokens("output_tokens", required: true)) : (null, null);
        var cached = columns.ContainsKey("cached_tokens") ? Tokens("cached_tokens", required: false) ?? 0 : (long?)null;
        var amountText = Required("amount");
        var amount = 0m;
        if (amountText is not null && (!decimal.TryParse(amountText, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
            CultureInfo.InvariantCulture, out amount) || Math.Abs(amount) > MaxAmount))
        {
            errors.Add(new BillError(record.Line, "amount", $"'{amountText}' is not a number"));
        }
        var currency = (Currency?)null;
        if (Cell("currency") is { } currencyText)
        {
            currency = currencyText.ToUpperInvariant() switch
            {
                "CNY" or "RMB" => Currency.CNY,
                "USD" => Currency.USD,
                _ => null,
            };
            if (currency is null)
            {
                errors.Add(new BillError(record.Line, "currency", $"'{currencyText}' is not CNY or USD"));
            }
        }
        return errors.Count > before
            ? null
            : new BillRow(record.Line, date, model!, currency, total ?? input!.Value + output!.Value, input, output, cached, amount);
    }
}
