using System.Text;

namespace Mulan.Governance.Reconciliation;

/// <summary>A record of a CSV text and the line it starts on (1-based), so errors can point into the file.</summary>
public sealed record CsvRecord(int Line, IReadOnlyList<string> Fields);

public sealed class CsvFormatException(int line, string message) : Exception(message)
{
    public int Line { get; } = line;
}

/// <summary>
/// A strict RFC 4180 reader: comma-separated fields; double-quoted fields that hold commas, line breaks and doubled
/// quotes; CRLF, LF or CR line ends; a leading UTF-8 byte order mark; blank lines skipped. Unlike the lenient reader
/// knowledge ingestion uses for documents, it refuses an unclosed quote or a stray one: in a bill, guessing where a
/// field ends could move an amount into the wrong column.
/// </summary>
public static class CsvReader
{
    public static IReadOnlyList<CsvRecord> Read(string text)
    {
        var records = new List<CsvRecord>();
        var fields = new List<string>();
        var field = new StringBuilder();
        int i = text.StartsWith('\uFEFF') ? 1 : 0, line = 1, start = 1;
        // `""` alone on a line is a record holding one empty value, not a blank line.
        var quotedRecord = false;
        while (i <= text.Length)
        {
            // The end of the text ends the last record as a line break would.
            var c = i < text.Length ? text[i] : '\n';
            i++;
            if (c == '"' && string.IsNullOrWhiteSpace(field.ToString()))
            {
                // A quoted field (spaces before the opening quote are dropped): read to the closing quote.
                (quotedRecord, var opened) = (true, line);
                field.Clear();
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw new CsvFormatException(opened, "a quoted field is never closed");
                    }
                    var q = text[i++];
                    if (q == '"' && (i >= text.Length || text[i] != '"'))
                    {
                        break;
                    }
                    i += q == '"' ? 1 : 0;
                    line += q == '\n' || (q == '\r' && (i >= text.Length || text[i] != '\n')) ? 1 : 0;
                    field.Append(q);
                }
                while (i < text.Length && text[i] is ' ' or '\t')
                {
                    i++;
                }
                if (i < text.Length && text[i] is not (',' or '\r' or '\n'))
                {
                    throw new CsvFormatException(line, "a quoted field must be followed by a comma or the end of the line");
                }
            }
            else if (c == '"')
            {
                throw new CsvFormatException(line, "a quote inside a field: quote the whole field and double the quotes in it");
            }
            else if (c is ',' or '\r' or '\n')
            {
                fields.Add(field.ToString());
                field.Clear();
                if (c != ',')
                {
                    i += c == '\r' && i < text.Length && text[i] == '\n' ? 1 : 0;
                    if (fields is not [""] || quotedRecord)
                    {
                        records.Add(new CsvRecord(start, fields));
                    }
                    (fields, quotedRecord, start) = ([], false, ++line);
                }
            }
            else
            {
                field.Append(c);
            }
        }
        return records;
    }
}
