namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// HTML tree building spends time proportional to the nesting depth on every tag (scope checks walk the
/// stack of open elements), so a megabyte of unclosed &lt;div&gt;s keeps a parser busy for minutes. This
/// linear pre-scan estimates the depth, erring high, and refuses absurd nesting before the parser runs.
/// </summary>
internal static class HtmlNestingGuard
{
    /// <summary>Real pages nest tens of levels deep, heavy web apps a few hundred.</summary>
    public const int MaxDepth = 1_000;

    /// <summary>Tags × depth: an upper bound on scope-walking steps, a few tens of seconds at most.</summary>
    private const long MaxWork = 10_000_000_000;

    // Elements that never nest (void), or that the parser closes implicitly when a sibling starts.
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> NotNesting = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
        "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup", "colgroup",
        "rb", "rt", "rp", "rtc", "html", "head", "body",
    }.GetAlternateLookup<ReadOnlySpan<char>>();

    // Their content is text, not markup, until the matching end tag.
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> RawText = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext",
    }.GetAlternateLookup<ReadOnlySpan<char>>();

    public static void Check(string html, CancellationToken ct)
    {
        var open = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        int depth = 0, maxDepth = 0;
        long tags = 0;
        var at = 0;
        while ((at = html.IndexOf('<', at)) >= 0 && at + 1 < html.Length)
        {
            if (html.AsSpan(at).StartsWith("<!--", StringComparison.Ordinal))
            {
                var close = html.IndexOf("-->", at + 4, StringComparison.Ordinal);
                at = close < 0 ? html.Length : close + 3;
                continue;
            }

            var closing = html[at + 1] == '/';
            var start = at + (closing ? 2 : 1);
            var end = start;
            while (end < html.Length && (char.IsAsciiLetterOrDigit(html[end]) || html[end] == '-'))
            {
                end++;
            }

            if (end == start || !char.IsAsciiLetter(html[start]))
            {
                at++;
                continue;
            }

            var name = html.AsSpan(start, end - start);
            if ((++tags & 0xFFFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            if (closing)
            {
                if (open.TryGetValue(name, out var count) && count > 0)
                {
                    open[name] = count - 1;
                    depth--;
                }
            }
            else if (!NotNesting.Contains(name))
            {
                open[name] = open.TryGetValue(name, out var count) ? count + 1 : 1;
                maxDepth = Math.Max(maxDepth, ++depth);
                if (depth > MaxDepth)
                {
                    throw new DocumentParseException($"HTML is nested more than {ByteSize.Number(MaxDepth)} levels deep");
                }
            }

            at = !closing && RawText.Contains(name) ? SkipRawText(html, end, name) : end;
        }

        if (tags * maxDepth > MaxWork)
        {
            throw new DocumentParseException("HTML is too large and too deeply nested to read");
        }
    }

    private static int SkipRawText(string html, int from, ReadOnlySpan<char> name)
    {
        var at = from;
        while ((at = html.IndexOf("</", at, StringComparison.Ordinal)) >= 0)
        {
            if (html.AsSpan(at + 2).StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                return at;
            }

            at += 2;
        }

        return html.Length;
    }
}
