namespace Mulan.Hosting;

/// <summary>One CSV cell (RFC 4180), made inert for spreadsheets: text that starts like a formula (= + - @, tab, CR)
/// gets a leading apostrophe, since model names, questions and errors come from users.</summary>
public static class CsvCell
{
    public static string Of(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        if (text[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            text = "'" + text;
        }
        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }
}
