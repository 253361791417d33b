using System.Globalization;
using System.Text.RegularExpressions;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Shows numeric cells roughly as Excel displays them where that is easy: dates and times (built-in and
/// custom date formats, 1900 and 1904 systems), percentages, and general numbers without binary noise.
/// </summary>
internal sealed partial class XlsxNumberFormats
{
    private readonly uint[] _formatIdByStyle;
    private readonly Dictionary<uint, string> _customFormats = [];
    private readonly bool _date1904;

    public XlsxNumberFormats(Stylesheet? stylesheet, bool date1904)
    {
        _date1904 = date1904;
        _formatIdByStyle = [.. stylesheet?.CellFormats?.Elements<CellFormat>().Select(f => f.NumberFormatId?.Value ?? 0) ?? []];
        foreach (var format in stylesheet?.NumberingFormats?.Elements<NumberingFormat>() ?? [])
        {
            if (format.NumberFormatId?.Value is { } id && format.FormatCode?.Value is { } code)
            {
                _customFormats[id] = code;
            }
        }
    }

    private enum Kind
    {
        General,
        Percent,
        Date,
        Time,
        DateTime,
    }

    public string Display(string raw, uint? styleIndex)
    {
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return raw;
        }

        var formatId = styleIndex is { } index && index < _formatIdByStyle.Length ? _formatIdByStyle[index] : 0;
        var kind = KindOf(formatId);
        if (kind is Kind.Date or Kind.Time or Kind.DateTime)
        {
            var serial = _date1904 ? value + 1462 : value;
            if (serial is >= 0 and < 2_958_466)
            {
                var date = DateTime.FromOADate(serial);
                return kind switch
                {
                    Kind.Time => date.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
                    Kind.Date when date.TimeOfDay == TimeSpan.Zero => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    _ => date.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                };
            }
        }

        return kind == Kind.Percent
            ? (value * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%"
            : value.ToString("G15", CultureInfo.InvariantCulture);
    }

    private Kind KindOf(uint formatId)
    {
        switch (formatId)
        {
            case 9 or 10:
                return Kind.Percent;
            case 18 or 19 or 20 or 21 or 45 or 46 or 47:
                return Kind.Time;
            case 22:
                return Kind.DateTime;

            // 27–36 and 50–58 are the East Asian locales' built-in date formats.
            case >= 14 and <= 17 or >= 27 and <= 36 or >= 50 and <= 58:
                return Kind.Date;
        }

        if (!_customFormats.TryGetValue(formatId, out var code))
        {
            return Kind.General;
        }

        // Quoted text, [colour]/[locale] sections and escaped characters say nothing about the kind.
        var bare = FormatNoise().Replace(code, "").ToLowerInvariant();
        if (bare.Contains('%', StringComparison.Ordinal))
        {
            return Kind.Percent;
        }

        var hasDate = bare.Contains('y', StringComparison.Ordinal) || bare.Contains('d', StringComparison.Ordinal);
        var hasTime = bare.Contains('h', StringComparison.Ordinal) || bare.Contains('s', StringComparison.Ordinal);
        return hasDate && hasTime ? Kind.DateTime
            : hasDate ? Kind.Date
            : hasTime ? Kind.Time
            : Kind.General;
    }

    [GeneratedRegex("\"[^\"]*\"|\\[[^\\]]*\\]|\\\\.", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex FormatNoise();
}
