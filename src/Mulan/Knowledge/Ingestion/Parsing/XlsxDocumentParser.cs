using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// XLSX through the Open XML SDK's streaming reader: each worksheet is a section named after it, its rows
/// become "A | B | C" lines in Table blocks of at most 50 rows, every block starting with the sheet's first
/// row so a block still reads as a table on its own. Shared and inline strings, booleans, and numbers shown
/// as dates or percentages where their format says so.
/// </summary>
public sealed class XlsxDocumentParser : IDocumentParser
{
    private const string Label = "XLSX";
    private const int RowsPerBlock = 50;
    private const int CharsPerBlock = 8_000;

    // Sparse rows ("A1" and "XFD1") must not turn into thousands of separators.
    private const int MaxPaddedGap = 64;

    public string Format => "xlsx";

    public bool Accepts(string extension, string? mediaType, ReadOnlySpan<byte> head) =>
        FileNames.HasExtension(extension, ".xlsx", ".xlsm", ".xltx", ".xltm")
        || FileNames.HasMediaType(
            mediaType,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
            "application/vnd.ms-excel.sheet.macroenabled.12");

    public ParsedDocument Parse(Stream input, string fileName, ParseLimits limits, CancellationToken ct)
    {
        var data = OfficePackage.Read(input, Label, limits, ct);
        return ParseFailure.Guard(OfficePackage.Corrupt(Label), () =>
        {
            using var document = SpreadsheetDocument.Open(InputBuffer.AsStream(data), false, OfficePackage.Settings(limits));
            var workbook = document.WorkbookPart;
            var sheets = workbook?.Workbook?.Sheets ?? throw new DocumentParseException(OfficePackage.Corrupt(Label));
            var strings = SharedStrings(workbook.SharedStringTablePart, limits, ct);
            var formats = new XlsxNumberFormats(workbook.WorkbookStylesPart?.Stylesheet, workbook.Workbook.WorkbookProperties?.Date1904?.Value ?? false);
            var collector = new BlockCollector(limits, ct);
            long cells = 0;
            foreach (var sheet in sheets.Elements<Sheet>())
            {
                if (sheet.Id?.Value is { } id && workbook.TryGetPartById(id, out var part) && part is WorksheetPart worksheet)
                {
                    var writer = new SheetWriter(collector, sheet.Name?.Value ?? "Sheet");
                    ReadRows(worksheet, strings, formats, writer, limits, ref cells, ct);
                    writer.Flush();
                }
            }

            return new ParsedDocument(OfficePackage.Title(document) ?? FileNames.Title(fileName), Format, collector.Blocks);
        });
    }

    /// <summary>Streams one sheet's rows into Table blocks, each opening with the sheet's first row.</summary>
    private sealed class SheetWriter(BlockCollector collector, string sheetName)
    {
        private readonly StringBuilder _block = new();
        private string? _header;
        private int _rowsInBlock;

        public void Add(string row)
        {
            if (_header is null)
            {
                collector.ResetSections();
                collector.Heading(1, sheetName, null);
                _header = row;
                _block.Append(row);
                return;
            }

            if (_rowsInBlock == RowsPerBlock || (_rowsInBlock > 0 && _block.Length + row.Length > CharsPerBlock))
            {
                Flush();
                _block.Append(_header);
            }

            _block.Append('\n').Append(row);
            _rowsInBlock++;
        }

        public void Flush()
        {
            if (_block.Length > 0)
            {
                collector.Add(BlockKind.Table, _block.ToString(), null);
            }

            _block.Clear();
            _rowsInBlock = 0;
        }
    }

    private static void ReadRows(WorksheetPart worksheet, string[] strings, XlsxNumberFormats formats, SheetWriter writer, ParseLimits limits, ref long cells, CancellationToken ct)
    {
        var values = new List<string>();
        using var reader = OpenXmlReader.Create(worksheet);

        // LoadCurrentElement already moves the reader past the element: calling Read() after it would skip a row.
        var more = reader.Read();
        while (more)
        {
            if (reader.ElementType != typeof(Row) || !reader.IsStartElement)
            {
                more = reader.Read();
                continue;
            }

            ct.ThrowIfCancellationRequested();
            var row = (Row)reader.LoadCurrentElement()!;
            more = !reader.EOF;
            values.Clear();
            foreach (var cell in row.Elements<Cell>())
            {
                var text = TextNormalizer.Inline(Value(cell, strings, formats));
                if (text.Length == 0)
                {
                    continue;
                }

                if (++cells > limits.MaxCells)
                {
                    throw new DocumentParseException($"spreadsheet has more than {ByteSize.Number(limits.MaxCells)} cells");
                }

                var column = Column(cell.CellReference?.Value) ?? values.Count;
                var gap = Math.Min(column - values.Count, MaxPaddedGap);
                for (var i = 0; i < gap; i++)
                {
                    values.Add("");
                }

                values.Add(text);
            }

            if (values.Count > 0)
            {
                writer.Add(string.Join(" | ", values));
            }
        }
    }

    private static string Value(Cell cell, string[] strings, XlsxNumberFormats formats)
    {
        var raw = cell.CellValue?.Text ?? "";
        var type = cell.DataType?.Value;
        if (type == CellValues.SharedString)
        {
            return int.TryParse(raw, out var index) && index >= 0 && index < strings.Length ? strings[index] : "";
        }

        if (type == CellValues.InlineString)
        {
            return cell.InlineString is { } inline ? StringItemText(inline) : raw;
        }

        if (type == CellValues.Boolean)
        {
            return raw == "1" ? "TRUE" : "FALSE";
        }

        return type == CellValues.String || type == CellValues.Error || type == CellValues.Date ? raw : formats.Display(raw, cell.StyleIndex?.Value);
    }

    /// <summary>The shared string table, refused when it alone holds more text than a document may.</summary>
    private static string[] SharedStrings(SharedStringTablePart? part, ParseLimits limits, CancellationToken ct)
    {
        if (part is null)
        {
            return [];
        }

        var strings = new List<string>();
        long chars = 0;
        using var reader = OpenXmlReader.Create(part);
        var more = reader.Read();
        while (more)
        {
            if (reader.ElementType == typeof(SharedStringItem) && reader.IsStartElement)
            {
                ct.ThrowIfCancellationRequested();
                var text = StringItemText((SharedStringItem)reader.LoadCurrentElement()!);
                more = !reader.EOF;
                chars += text.Length;
                if (chars > limits.MaxTextChars)
                {
                    throw new DocumentParseException($"document text exceeds {ByteSize.Number(limits.MaxTextChars)} characters");
                }

                strings.Add(text);
            }
            else
            {
                more = reader.Read();
            }
        }

        return [.. strings];
    }

    /// <summary>Plain text or rich-text runs; phonetic guides (furigana) are left out.</summary>
    private static string StringItemText(OpenXmlElement item) =>
        item.GetFirstChild<Text>()?.Text ?? string.Concat(item.Elements<Run>().Select(r => r.Text?.Text));

    /// <summary>Zero-based column of a reference such as "BC12".</summary>
    private static int? Column(string? reference)
    {
        if (string.IsNullOrEmpty(reference) || !char.IsAsciiLetter(reference[0]))
        {
            return null;
        }

        var column = 0;
        foreach (var c in reference)
        {
            if (!char.IsAsciiLetter(c) || column > 16_384)
            {
                break;
            }

            column = (column * 26) + (char.ToUpperInvariant(c) - 'A' + 1);
        }

        return column - 1;
    }
}
