using System.Text.RegularExpressions;

namespace Mulan.Governance.Pii;

/// <summary>
/// The placeholder that stands for a masked value: <c>⟦PII:kind:n⟧</c>, e.g. <c>⟦PII:china_mobile:1⟧</c>.
/// Why this shape: U+27E6/U+27E7 (mathematical white square brackets) essentially never occur in prose, code or
/// markup, so a placeholder cannot be confused with normal text (and text that imitates one is masked itself); they are
/// not Markdown, HTML, template or JSON syntax, so models and renderers leave them alone and they sit inside a JSON
/// string unescaped; the ASCII body reads as a label, so a model copies it verbatim and still knows what it stands for
/// ("call ⟦PII:china_mobile:1⟧"); the per-kind counter keeps distinct values apart within one request.
/// </summary>
public static partial class PiiPlaceholder
{
    public const char Open = '⟦';
    public const char Close = '⟧';
    private const string Prefix = "⟦PII:";
    private const int MaxKindLength = 32;
    private const int MaxIndexDigits = 9;

    public static string Format(string kind, int index) => $"{Prefix}{kind}:{index}{Close}";

    /// <summary>Every placeholder-shaped substring; linear, no nested quantifiers.</summary>
    [GeneratedRegex("⟦PII:[a-z0-9_]{1,32}:[1-9][0-9]{0,8}⟧", RegexOptions.CultureInvariant)]
    public static partial Regex Pattern();

    /// <summary>Kind names usable in a placeholder (and so for an administrator's pattern).</summary>
    [GeneratedRegex("^[a-z][a-z0-9_]{0,31}$", RegexOptions.CultureInvariant)]
    public static partial Regex KindName();

    /// <summary>
    /// Where a placeholder that is not finished yet may begin at the end of <paramref name="text"/>, or the text's
    /// length when none can. Only the last <see cref="Open"/> can start one: the body of a placeholder never holds one.
    /// </summary>
    public static int PartialStart(ReadOnlySpan<char> text)
    {
        var at = text.LastIndexOf(Open);
        return at >= 0 && IsProperPrefix(text[at..]) ? at : text.Length;
    }

    // A state machine over the grammar above: true when the text could still grow into a placeholder but is not one.
    private static bool IsProperPrefix(ReadOnlySpan<char> s)
    {
        var i = 0;
        for (; i < Prefix.Length; i++)
        {
            if (i == s.Length)
            {
                return true;
            }
            if (s[i] != Prefix[i])
            {
                return false;
            }
        }
        var kind = 0;
        for (; i < s.Length && s[i] != ':'; i++, kind++)
        {
            if (kind == MaxKindLength || !(char.IsAsciiLetterLower(s[i]) || char.IsAsciiDigit(s[i]) || s[i] == '_'))
            {
                return false;
            }
        }
        if (i == s.Length)
        {
            return true;
        }
        if (kind == 0)
        {
            return false;
        }
        i++; // the colon
        var digits = 0;
        for (; i < s.Length; i++, digits++)
        {
            if (s[i] == Close)
            {
                return false; // complete (or empty index): nothing to wait for
            }
            if (digits == MaxIndexDigits || !char.IsAsciiDigit(s[i]) || (digits == 0 && s[i] == '0'))
            {
                return false;
            }
        }
        return true;
    }
}
