using System.Text;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// A small RFC 4180 reader: delimiter-separated fields, double-quoted fields that may hold delimiters,
/// line breaks and doubled quotes, CRLF/LF/CR record ends. Lenient where files in the wild are sloppy:
/// a quote inside an unquoted field is literal, an unterminated quote runs to the end of the input.
/// </summary>
internal static class DelimitedTextReader
{
    public static IEnumerable<List<string>> Read(string text, char delimiter)
    {
        var record = new List<string>();
        var field = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '"' && field.Length == 0)
            {
                i = ReadQuoted(text, i + 1, field);
                continue;
            }

            if (c == delimiter)
            {
                record.Add(field.ToString());
                field.Clear();
            }
            else if (c is '\r' or '\n')
            {
                record.Add(field.ToString());
                field.Clear();
                yield return record;
                record = [];
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }
            }
            else
            {
                field.Append(c);
            }

            i++;
        }

        if (field.Length > 0 || record.Count > 0)
        {
            record.Add(field.ToString());
            yield return record;
        }
    }

    /// <summary>Guesses the delimiter of a .csv file from its first line: comma, semicolon or tab, whichever occurs most outside quotes.</summary>
    public static char GuessDelimiter(string text)
    {
        int commas = 0, semicolons = 0, tabs = 0;
        var quoted = false;
        foreach (var c in text.AsSpan(0, Math.Min(text.Length, 64 * 1024)))
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && c is '\r' or '\n')
            {
                break;
            }
            else if (!quoted)
            {
                commas += c == ',' ? 1 : 0;
                semicolons += c == ';' ? 1 : 0;
                tabs += c == '\t' ? 1 : 0;
            }
        }

        return tabs > commas && tabs >= semicolons ? '\t' : semicolons > commas ? ';' : ',';
    }

    /// <summary>Reads a quoted field body starting after the opening quote; returns the index after the closing quote.</summary>
    private static int ReadQuoted(string text, int i, StringBuilder field)
    {
        while (i < text.Length)
        {
            if (text[i] != '"')
            {
                field.Append(text[i++]);
            }
            else if (i + 1 < text.Length && text[i + 1] == '"')
            {
                field.Append('"');
                i += 2;
            }
            else
            {
                return i + 1;
            }
        }

        return i;
    }
}
