using System.Text;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Cleans extracted text: Unicode NFC, no control or invisible format characters, no lone surrogates,
/// runs of spaces collapsed. CJK text is kept intact: a line break between two CJK characters is a
/// soft wrap, not a word break, so it is dropped rather than turned into a space.
/// </summary>
internal static class TextNormalizer
{
    /// <summary>One line: every whitespace run becomes one space (or nothing across a CJK soft wrap).</summary>
    public static string Inline(string text) => Collapse(text, keepLineBreaks: false);

    /// <summary>Keeps line breaks; collapses spaces inside lines, trims lines and drops blank ones.</summary>
    public static string Lines(string text) => Collapse(text, keepLineBreaks: true);

    /// <summary>For code: keeps indentation and blank lines; only strips control characters and normalizes line ends.</summary>
    public static string Verbatim(string text)
    {
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\r')
            {
                sb.Append('\n');
                if (i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }
            }
            else if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    sb.Append(c).Append(text[++i]);
                }
            }
            else if (c == '\n' || c == '\t' || !(char.IsControl(c) || char.IsLowSurrogate(c) || IsInvisible(c)))
            {
                sb.Append(c);
            }
        }

        // Drop leading blank lines but keep the first line's indentation.
        var result = sb.ToString().TrimEnd();
        var start = 0;
        for (var i = 0; i < result.Length && char.IsWhiteSpace(result[i]); i++)
        {
            if (result[i] == '\n')
            {
                start = i + 1;
            }
        }

        return Nfc(result[start..]);
    }

    /// <summary>Joins words or lines with spaces, except between two CJK characters.</summary>
    public static string JoinWords(IEnumerable<string> parts)
    {
        var sb = new StringBuilder();
        var previous = "";
        foreach (var part in parts)
        {
            if (part.Length == 0)
            {
                continue;
            }

            if (sb.Length > 0 && !(EndsWithCjk(previous) && StartsWithCjk(part)))
            {
                sb.Append(' ');
            }

            sb.Append(part);
            previous = part;
        }

        return sb.ToString();
    }

    public static bool StartsWithCjk(string text) =>
        text.Length > 0 && IsCjk(char.IsHighSurrogate(text[0]) && text.Length > 1 && char.IsLowSurrogate(text[1]) ? char.ConvertToUtf32(text[0], text[1]) : text[0]);

    public static bool EndsWithCjk(string text) =>
        text.Length > 0 && IsCjk(char.IsLowSurrogate(text[^1]) && text.Length > 1 && char.IsHighSurrogate(text[^2]) ? char.ConvertToUtf32(text[^2], text[^1]) : text[^1]);

    /// <summary>Han ideographs, kana, bopomofo, CJK punctuation and full-width forms. Hangul uses spaces, so it is not included.</summary>
    public static bool IsCjk(int codePoint) =>
        codePoint is >= 0x2E80 and <= 0x2FDF // radicals
            or >= 0x3000 and <= 0x303F // CJK symbols and punctuation
            or >= 0x3040 and <= 0x31FF // kana, bopomofo
            or >= 0x3400 and <= 0x4DBF // extension A
            or >= 0x4E00 and <= 0x9FFF // unified ideographs
            or >= 0xF900 and <= 0xFAFF // compatibility ideographs
            or >= 0xFE30 and <= 0xFE4F // compatibility forms
            or >= 0xFF00 and <= 0xFF60 // full-width forms
            or >= 0x20000 and <= 0x3FFFF; // extensions B and later

    private static string Collapse(string text, bool keepLineBreaks)
    {
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        var pendingBreak = false;
        var lastWasCjk = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            int codePoint;
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    continue;
                }

                codePoint = char.ConvertToUtf32(c, text[i + 1]);
            }
            else if (c is '\n' or '\r' or '\u2028' or '\u2029' or '\u0085' or '\v' or '\f')
            {
                pendingBreak = true;
                continue;
            }
            else if (char.IsWhiteSpace(c))
            {
                pendingSpace = true;
                continue;
            }
            else if (char.IsControl(c) || char.IsLowSurrogate(c) || IsInvisible(c))
            {
                continue;
            }
            else
            {
                codePoint = c;
            }

            var isCjk = IsCjk(codePoint);
            if (sb.Length > 0)
            {
                if (pendingBreak && keepLineBreaks)
                {
                    sb.Append('\n');
                }
                else if (pendingBreak ? !(lastWasCjk && isCjk) : pendingSpace)
                {
                    sb.Append(' ');
                }
            }

            pendingSpace = pendingBreak = false;
            sb.Append(c);
            if (codePoint > 0xFFFF)
            {
                sb.Append(text[++i]);
            }

            lastWasCjk = isCjk;
        }

        return Nfc(sb.ToString());
    }

    // Byte order marks, zero-width spaces, word joiners and soft hyphens carry no text; bidirectional
    // embeddings, overrides and isolates only serve to make displayed text differ from stored text.
    private static bool IsInvisible(char c) =>
        c is '\uFEFF' or '\u200B' or '\u2060' or '\u00AD' or '\uFFFE' or '\uFFFF' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

    private static string Nfc(string text) => text.IsNormalized(NormalizationForm.FormC) ? text : text.Normalize(NormalizationForm.FormC);
}
