using System.Text.Json;
using System.Text.Json.Nodes;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Mulan.Governance.Reconciliation;
using Mulan.Hosting.Problems;

namespace Mulan.Evaluations;

/// <summary>
/// Evaluation items from a JSON body, or from a CSV, JSONL or XLSX file with the same columns. Any error refuses the
/// whole input (nothing is half-imported); errors name the JSON path, or the row and column of the file.
/// </summary>
public static class EvaluationItems
{
    public const int MaxItems = 5_000;
    public const int MaxQuestionLength = 4_000;
    public const int MaxTextLength = 16_000;
    public const int MaxListEntries = 50;
    public const int MaxEntryLength = 1_000;
    public const int MaxErrors = 20;

    /// <summary>The columns of a file, by their JSON names; the first line (CSV, XLSX) names them, in any order.</summary>
    public static readonly string[] Columns = ["question", "expectedFacts", "expectedFactsMode", "expectedSources", "shouldRefuse", "tags", "referenceAnswer"];

    /// <summary>What separates the entries of a list column in a CSV or XLSX cell.</summary>
    public static readonly char[] ListSeparators = ['|', ';'];

    /// <summary>Items of a JSON array (<c>$.items</c>); errors keyed by JSON path.</summary>
    public static List<EvaluationItem> FromJson(JsonNode? node, string path, Dictionary<string, string[]> errors)
    {
        var items = new List<EvaluationItem>();
        if (node is not JsonArray array || array.Count == 0)
        {
            errors.AddError(path, "required: a non-empty array of items");
            return items;
        }
        if (array.Count > MaxItems)
        {
            errors.AddError(path, $"at most {MaxItems} items");
            return items;
        }
        for (var i = 0; i < array.Count && errors.Count < MaxErrors; i++)
        {
            var at = $"{path}[{i}]";
            if (array[i] is not JsonObject o)
            {
                errors.AddError(at, "must be an object");
                continue;
            }
            var cells = new Dictionary<string, Cell>(StringComparer.Ordinal);
            foreach (var (name, value) in o)
            {
                if (!Columns.Contains(name, StringComparer.Ordinal))
                {
                    errors.AddError($"{at}.{name}", $"unknown property (allowed: {string.Join(", ", Columns)})");
                    continue;
                }
                cells[name] = new Cell(value, null);
            }
            if (Build(cells, n => $"{at}.{n}", errors, json: true) is { } item)
            {
                items.Add(item);
            }
        }
        return items;
    }

    /// <summary>A value as given: a JSON node (JSON and JSONL) or a cell's text (CSV and XLSX).</summary>
    private readonly record struct Cell(JsonNode? Json, string? Text);

    private static EvaluationItem? Build(Dictionary<string, Cell> cells, Func<string, string> where, Dictionary<string, string[]> errors, bool json)
    {
        var before = errors.Count;
        var question = Text(cells, "question", where, errors, MaxQuestionLength);
        if (question is null or { Length: 0 })
        {
            errors.AddError(where("question"), "required: the question to ask");
        }
        var facts = List(cells, "expectedFacts", where, errors);
        var mode = Text(cells, "expectedFactsMode", where, errors, 10) is { Length: > 0 } m ? m.Trim().ToLowerInvariant() : ExpectedFactsModes.All;
        if (mode is not (ExpectedFactsModes.All or ExpectedFactsModes.Any))
        {
            errors.AddError(where("expectedFactsMode"), "must be all or any");
        }
        var sources = List(cells, "expectedSources", where, errors);
        var refuse = false;
        if (cells.TryGetValue("shouldRefuse", out var r))
        {
            if (r.Json is JsonValue jv && jv.TryGetValue<bool>(out var b))
            {
                refuse = b;
            }
            else if (r.Text is { } t && t.Trim().ToLowerInvariant() is var v && v is "" or "true" or "false" or "yes" or "no" or "1" or "0")
            {
                refuse = v is "true" or "yes" or "1";
            }
            else if (r.Json is not null || r.Text is not null)
            {
                errors.AddError(where("shouldRefuse"), json ? "must be true or false" : "must be true, false, yes, no, 1, 0 or empty");
            }
        }
        var tags = List(cells, "tags", where, errors);
        var reference = Text(cells, "referenceAnswer", where, errors, MaxTextLength) is { Length: > 0 } ra ? ra : null;
        if (refuse && facts is { Count: > 0 })
        {
            errors.AddError(where("expectedFacts"), "an item that should be refused expects no facts");
        }
        return errors.Count > before ? null : new EvaluationItem(question!.Trim(), facts, mode, sources, refuse, tags, reference);
    }

    private static string? Text(Dictionary<string, Cell> cells, string name, Func<string, string> where, Dictionary<string, string[]> errors, int max)
    {
        if (!cells.TryGetValue(name, out var cell) || cell.Json is null && cell.Text is null)
        {
            return null;
        }
        var text = cell.Text ?? (cell.Json is JsonValue v && v.TryGetValue<string>(out var s) ? s : null);
        if (text is null)
        {
            errors.AddError(where(name), "must be a string");
            return null;
        }
        if (text.Length > max)
        {
            errors.AddError(where(name), $"at most {max} characters");
            return null;
        }
        return text;
    }

    private static IReadOnlyList<string>? List(Dictionary<string, Cell> cells, string name, Func<string, string> where, Dictionary<string, string[]> errors)
    {
        if (!cells.TryGetValue(name, out var cell) || cell.Json is null && cell.Text is null)
        {
            return null;
        }
        List<string> entries;
        if (cell.Text is { } text)
        {
            entries = [.. text.Split(ListSeparators).Select(e => e.Trim()).Where(e => e.Length > 0)];
        }
        else if (cell.Json is JsonArray array && array.All(e => e is JsonValue v && v.TryGetValue<string>(out _)))
        {
            entries = [.. array.Select(e => e!.GetValue<string>().Trim())];
            if (entries.Any(e => e.Length == 0))
            {
                errors.AddError(where(name), "entries must not be empty");
                return null;
            }
        }
        else
        {
            errors.AddError(where(name), "must be an array of strings");
            return null;
        }
        if (entries.Count > MaxListEntries || entries.Any(e => e.Length > MaxEntryLength))
        {
            errors.AddError(where(name), $"at most {MaxListEntries} entries of at most {MaxEntryLength} characters");
            return null;
        }
        return entries.Count == 0 ? null : entries;
    }

    /// <summary>Items of an uploaded file by its format (csv, jsonl or xlsx); errors keyed "row N, column C".</summary>
    public static List<EvaluationItem> FromFile(string format, byte[] data, Dictionary<string, string[]> errors)
    {
        List<EvaluationItem> items;
        switch (format)
        {
            case "jsonl":
                items = FromJsonLines(Utf8(data), errors);
                break;
            case "csv":
                items = FromRows(CsvRows(Utf8(data), errors), errors);
                break;
            case "xlsx":
                items = FromRows(XlsxRows(data, errors), errors);
                break;
            default:
                errors.AddError("file", "must be a .csv, .jsonl or .xlsx file");
                return [];
        }
        if (errors.Count == 0 && items.Count == 0)
        {
            errors.AddError("file", "holds no items");
        }
        if (items.Count > MaxItems)
        {
            errors.AddError("file", $"at most {MaxItems} items");
        }
        return errors.Count > 0 ? [] : items;
    }

    private static string Utf8(byte[] data) => new System.Text.UTF8Encoding(false, false).GetString(data).TrimStart('\uFEFF');

    private static List<EvaluationItem> FromJsonLines(string text, Dictionary<string, string[]> errors)
    {
        var items = new List<EvaluationItem>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length && errors.Count < MaxErrors; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }
            var row = i + 1;
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(line);
            }
            catch (JsonException e)
            {
                errors.AddError($"row {row}", $"not valid JSON (position {e.BytePositionInLine})");
                continue;
            }
            if (node is not JsonObject o)
            {
                errors.AddError($"row {row}", "must be a JSON object");
                continue;
            }
            var cells = new Dictionary<string, Cell>(StringComparer.Ordinal);
            foreach (var (name, value) in o)
            {
                if (!Columns.Contains(name, StringComparer.Ordinal))
                {
                    errors.AddError($"row {row}, column {name}", $"unknown column (allowed: {string.Join(", ", Columns)})");
                    continue;
                }
                cells[name] = new Cell(value, null);
            }
            if (Build(cells, n => $"row {row}, column {n}", errors, json: true) is { } item)
            {
                items.Add(item);
            }
        }
        return items;
    }

    /// <summary>Rows of cells (the first the header), each with its row number in the file.</summary>
    private static List<(int Row, IReadOnlyList<string> Cells)> CsvRows(string text, Dictionary<string, string[]> errors)
    {
        try
        {
            return [.. CsvReader.Read(text).Select(r => (r.Line, r.Fields))];
        }
        catch (CsvFormatException e)
        {
            errors.AddError($"row {e.Line}", e.Message);
            return [];
        }
    }

    private static List<(int Row, IReadOnlyList<string> Cells)> XlsxRows(byte[] data, Dictionary<string, string[]> errors)
    {
        var rows = new List<(int, IReadOnlyList<string>)>();
        try
        {
            using var document = SpreadsheetDocument.Open(new MemoryStream(data), false);
            var workbook = document.WorkbookPart ?? throw new InvalidDataException("no workbook");
            var strings = workbook.SharedStringTablePart?.SharedStringTable?.Elements<SharedStringItem>().Select(s => s.InnerText).ToArray() ?? [];
            var first = workbook.Workbook.Sheets?.Elements<Sheet>().FirstOrDefault() ?? throw new InvalidDataException("no worksheet");
            var sheet = (WorksheetPart)workbook.GetPartById(first.Id!.Value!);
            foreach (var row in sheet.Worksheet.Descendants<Row>())
            {
                var cells = new List<string>();
                foreach (var cell in row.Elements<DocumentFormat.OpenXml.Spreadsheet.Cell>())
                {
                    var column = ColumnIndex(cell.CellReference?.Value) ?? cells.Count;
                    while (cells.Count < column)
                    {
                        cells.Add("");
                    }
                    var raw = cell.CellValue?.Text ?? "";
                    var value = cell.DataType?.Value == CellValues.SharedString && int.TryParse(raw, out var s) && s >= 0 && s < strings.Length ? strings[s]
                        : cell.DataType?.Value == CellValues.InlineString ? cell.InlineString?.InnerText ?? ""
                        : cell.DataType?.Value == CellValues.Boolean ? (raw == "1" ? "true" : "false")
                        : raw;
                    cells.Add(value);
                }
                rows.Add(((int)(row.RowIndex?.Value ?? (uint)rows.Count + 1), cells));
            }
        }
        catch (Exception e) when (e is InvalidDataException or OpenXmlPackageException or IOException or FormatException or InvalidOperationException or ArgumentException
                                      or System.Xml.XmlException or KeyNotFoundException)
        {
            errors.AddError("file", "not a readable XLSX workbook");
        }
        return rows;
    }

    private static int? ColumnIndex(string? reference)
    {
        if (string.IsNullOrEmpty(reference))
        {
            return null;
        }
        var n = 0;
        foreach (var c in reference.TakeWhile(char.IsAsciiLetter))
        {
            n = n * 26 + (char.ToUpperInvariant(c) - 'A' + 1);
        }
        return n == 0 ? null : n - 1;
    }

    private static List<EvaluationItem> FromRows(List<(int Row, IReadOnlyList<string> Cells)> rows, Dictionary<string, string[]> errors)
    {
        var items = new List<EvaluationItem>();
        if (errors.Count > 0 || rows.Count == 0)
        {
            return items;
        }
        var (headerRow, header) = rows[0];
        var columns = new List<string?>();
        for (var i = 0; i < header.Count; i++)
        {
            var name = header[i].Trim();
            var known = Columns.FirstOrDefault(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));
            if (name.Length > 0 && known is null)
            {
                errors.AddError($"row {headerRow}, column {ColumnName(i)}", $"unknown column '{name}' (allowed: {string.Join(", ", Columns)})");
            }
            else if (known is not null && columns.Contains(known))
            {
                errors.AddError($"row {headerRow}, column {ColumnName(i)}", $"column '{known}' appears twice");
            }
            columns.Add(known);
        }
        if (!columns.Contains("question"))
        {
            errors.AddError($"row {headerRow}", "the first row names the columns and must include 'question'");
        }
        if (errors.Count > 0)
        {
            return items;
        }
        foreach (var (row, cells) in rows.Skip(1))
        {
            if (cells.All(string.IsNullOrWhiteSpace))
            {
                continue;
            }
            if (cells.Skip(columns.Count).Any(c => !string.IsNullOrWhiteSpace(c)))
            {
                errors.AddError($"row {row}", $"{cells.Count} cells, but the first row names {columns.Count} columns");
                continue;
            }
            var byName = new Dictionary<string, Cell>(StringComparer.Ordinal);
            for (var i = 0; i < columns.Count && i < cells.Count; i++)
            {
                if (columns[i] is { } name && cells[i].Length > 0)
                {
                    byName[name] = new Cell(null, cells[i]);
                }
            }
            var at = row;
            if (Build(byName, n => $"row {at}, column {n}", errors, json: false) is { } item)
            {
                items.Add(item);
            }
            if (errors.Count >= MaxErrors)
            {
                break;
            }
        }
        return items;
    }

    private static string ColumnName(int index)
    {
        var name = "";
        for (var n = index + 1; n > 0; n = (n - 1) / 26)
        {
            name = (char)('A' + (n - 1) % 26) + name;
        }
        return name;
    }
}
