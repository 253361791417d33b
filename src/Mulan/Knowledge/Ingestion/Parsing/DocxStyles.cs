using System.Text.RegularExpressions;
using DocumentFormat.OpenXml.Wordprocessing;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Heading levels and list styles from a DOCX style sheet. Built-in style names stay English ("heading 1",
/// "Title") even when Word localizes the style id ("1", "berschrift1", "标题1"), and custom heading styles
/// carry an outline level, so names and outline levels are checked along the basedOn chain.
/// </summary>
internal sealed partial class DocxStyles
{
    /// <summary>Level returned for the Title style.</summary>
    public const int TitleLevel = 0;

    private const int MaxChain = 16;
    private readonly Dictionary<string, Style> _styles = new(StringComparer.Ordinal);

    public DocxStyles(Styles? styles)
    {
        foreach (var style in styles?.Elements<Style>() ?? [])
        {
            if (style.StyleId?.Value is { } id)
            {
                _styles.TryAdd(id, style);
            }
        }
    }

    /// <summary>1–9 for headings, <see cref="TitleLevel"/> for the Title style, null for anything else.</summary>
    public int? HeadingLevel(Paragraph paragraph)
    {
        var properties = paragraph.ParagraphProperties;
        if (properties?.OutlineLevel?.Val?.Value is { } outline and >= 0 and < 9)
        {
            return outline + 1;
        }

        var id = properties?.ParagraphStyleId?.Val?.Value;
        for (var depth = 0; id is not null && depth < MaxChain; depth++)
        {
            var style = _styles.GetValueOrDefault(id);
            var name = style?.StyleName?.Val?.Value;
            if (IsTitle(id) || IsTitle(name))
            {
                return TitleLevel;
            }

            if ((Number(id) ?? Number(name)) is { } level)
            {
                return level;
            }

            if (style?.StyleParagraphProperties?.OutlineLevel?.Val?.Value is { } styleOutline and >= 0 and < 9)
            {
                return styleOutline + 1;
            }

            id = style?.BasedOn?.Val?.Value;
        }

        return null;
    }

    /// <summary>Numbered or bulleted, directly or through its style.</summary>
    public bool IsListItem(Paragraph paragraph)
    {
        var properties = paragraph.ParagraphProperties;
        if (properties?.NumberingProperties is { } numbering)
        {
            return numbering.NumberingId?.Val?.Value is not 0;
        }

        var id = properties?.ParagraphStyleId?.Val?.Value;
        for (var depth = 0; id is not null && depth < MaxChain; depth++)
        {
            var style = _styles.GetValueOrDefault(id);
            if (style?.StyleParagraphProperties?.NumberingProperties is { } styleNumbering)
            {
                return styleNumbering.NumberingId?.Val?.Value is not 0;
            }

            id = style?.BasedOn?.Val?.Value;
        }

        return false;
    }

    private static bool IsTitle(string? name) => string.Equals(name, "Title", StringComparison.OrdinalIgnoreCase);

    private static int? Number(string? name) =>
        name is not null && HeadingName().Match(name) is { Success: true } match ? match.Groups[1].Value[0] - '0' : null;

    [GeneratedRegex(@"^heading\s*([1-9])$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HeadingName();
}
