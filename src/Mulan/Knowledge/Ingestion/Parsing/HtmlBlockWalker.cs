using System.Text;
using AngleSharp.Dom;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Walks an HTML DOM into blocks: readable text only (scripts, styles, navigation, page chrome, forms and
/// hidden elements dropped), h1–h6 as headings, li as list items, pre as code, tables as "cell | cell"
/// rows. Recursion stops at a fixed depth; deeper markup is read as flat text, so hostile nesting cannot
/// exhaust the stack.
/// </summary>
internal sealed class HtmlBlockWalker(BlockCollector collector)
{
    private const int MaxDepth = 200;

    // Marks <br> inside inline text; source newlines are plain whitespace in HTML, this one is not.
    private const char HardBreak = '\u2028';

    private static readonly HashSet<string> Dropped = new(StringComparer.Ordinal)
    {
        "script", "style", "noscript", "template", "svg", "math", "nav", "aside", "form", "button", "select",
        "option", "textarea", "input", "iframe", "frame", "frameset", "object", "embed", "canvas", "audio",
        "video", "head", "title", "meta", "link", "base", "dialog", "map", "area", "source", "track",
    };

    private static readonly HashSet<string> DroppedRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        "navigation", "search", "menu", "menubar", "banner", "contentinfo",
    };

    private static readonly HashSet<string> BlockTags = new(StringComparer.Ordinal)
    {
        "html", "body", "main", "article", "section", "div", "p", "blockquote", "figure", "figcaption", "address",
        "details", "summary", "ul", "ol", "dl", "dt", "dd", "hr", "center", "fieldset", "legend", "header",
        "footer", "caption", "tr", "td", "th", "thead", "tbody", "tfoot", "hgroup", "menu",
    };

    private readonly StringBuilder _inline = new();
    private int _listDepth;

    /// <summary>The text of the first h1, a title candidate.</summary>
    public string? FirstH1 { get; private set; }

    public void Walk(INode root)
    {
        WalkChildren(root, 0);
        Flush();
    }

    /// <summary>Page chrome and invisible content that is not part of the readable text.</summary>
    public static bool IsDropped(IElement element)
    {
        var tag = element.LocalName;
        if (Dropped.Contains(tag) || element.HasAttribute("hidden"))
        {
            return true;
        }

        // A page's header and footer are chrome; an article's own header (with its h1) is content.
        if (tag is "header" or "footer" && element.ParentElement?.Closest("article, main") is null)
        {
            return true;
        }

        if (string.Equals(element.GetAttribute("aria-hidden"), "true", StringComparison.OrdinalIgnoreCase)
            || (element.GetAttribute("role") is { } role && DroppedRoles.Contains(role.Trim())))
        {
            return true;
        }

        if (element.GetAttribute("style") is not { } style)
        {
            return false;
        }

        var compact = string.Concat(style.Where(c => !char.IsWhiteSpace(c))).ToLowerInvariant();
        return compact.Contains("display:none", StringComparison.Ordinal) || compact.Contains("visibility:hidden", StringComparison.Ordinal);
    }

    private void WalkChildren(INode node, int depth)
    {
        for (var child = node.FirstChild; child is not null; child = child.NextSibling)
        {
            if (child is IText text)
            {
                _inline.Append(text.Data);
            }
            else if (child is IElement element && !IsDropped(element))
            {
                Visit(element, depth + 1);
            }
        }
    }

    private void Visit(IElement element, int depth)
    {
        collector.CancellationToken.ThrowIfCancellationRequested();
        var tag = element.LocalName;
        if (depth > MaxDepth)
        {
            _inline.Append(' ').Append(FlatText(element, HardBreak));
            return;
        }

        switch (tag)
        {
            case "h1" or "h2" or "h3" or "h4" or "h5" or "h6":
                Flush();
                var heading = TextNormalizer.Inline(FlatText(element, ' '));
                if (tag == "h1" && heading.Length > 0)
                {
                    FirstH1 ??= heading;
                }

                collector.Heading(tag[1] - '0', heading, null);
                break;
            case "br":
                _inline.Append(HardBreak);
                break;
            case "pre":
                Flush();
                collector.Add(BlockKind.Code, FlatText(element, '\n', verbatim: true), null);
                break;
            case "table":
                Flush();
                Table(element);
                break;
            case "li":
                Flush();
                _listDepth++;
                WalkChildren(element, depth);
                Flush();
                _listDepth--;
                break;
            default:
                var isBlock = BlockTags.Contains(tag);
                if (isBlock)
                {
                    Flush();
                }

                WalkChildren(element, depth);
                if (isBlock)
                {
                    Flush();
                }

                break;
        }
    }

    /// <summary>Rows of this table only (nested tables are read as their cell's text); caption first.</summary>
    private void Table(IElement table)
    {
        var rows = new List<string>();
        foreach (var section in table.Children)
        {
            if (section.LocalName == "caption")
            {
                collector.Add(BlockKind.Paragraph, TextNormalizer.Inline(FlatText(section, ' ')), null);
            }

            var sectionRows = section.LocalName is "thead" or "tbody" or "tfoot" ? section.Children.Where(r => r.LocalName == "tr") : section.LocalName == "tr" ? [section] : [];
            foreach (var row in sectionRows.Where(r => !IsDropped(r)))
            {
                var cells = row.Children
                    .Where(c => c.LocalName is "td" or "th" && !IsDropped(c))
                    .Select(c => TextNormalizer.Inline(FlatText(c, ' ')))
                    .ToList();
                if (cells.Any(c => c.Length > 0))
                {
                    rows.Add(string.Join(" | ", cells));
                }
            }
        }

        collector.Add(BlockKind.Table, string.Join('\n', rows), null);
    }

    private void Flush()
    {
        var lines = _inline.ToString().Split(HardBreak).Select(TextNormalizer.Inline).Where(l => l.Length > 0);
        _inline.Clear();
        collector.Add(_listDepth > 0 ? BlockKind.ListItem : BlockKind.Paragraph, string.Join('\n', lines), null);
    }

    /// <summary>Visible text under an element without recursion; <paramref name="separator"/> goes between blocks and for line breaks.</summary>
    private static string FlatText(IElement root, char separator, bool verbatim = false)
    {
        var sb = new StringBuilder();
        var pending = new Stack<INode>();
        pending.Push(root);
        while (pending.TryPop(out var node))
        {
            if (node is IText text)
            {
                sb.Append(text.Data);
                continue;
            }

            if (node is not IElement element || (element != root && IsDropped(element)))
            {
                continue;
            }

            if (element.LocalName == "br" || (!verbatim && BlockTags.Contains(element.LocalName)))
            {
                sb.Append(separator);
            }

            for (var child = element.LastChild; child is not null; child = child.PreviousSibling)
            {
                pending.Push(child);
            }
        }

        return sb.ToString();
    }
}
