using System.Text;

namespace Mulan.Speech.Adapters.Tencent;

/// <summary>One recognised line with its box (pixels, top-left origin), as OCR engines report it.</summary>
public sealed record OcrLine(string Text, double X, double Y, double Width, double Height);

/// <summary>Turns lines in reading order into plain text and Markdown paragraphs.</summary>
public static class OcrLayout
{
    /// <summary>A vertical gap larger than this share of the line height starts a new paragraph (ordinary line spacing is
    /// well under half a line; a blank line between paragraphs is about one).</summary>
    public const double ParagraphGap = 0.6;

    public static OcrPageText Compose(IReadOnlyList<OcrLine> lines)
    {
        var text = string.Join("\n", lines.Select(l => l.Text));
        var markdown = new StringBuilder();
        OcrLine? previous = null;
        foreach (var line in lines)
        {
            if (previous is not null)
            {
                var gap = line.Y - (previous.Y + previous.Height);
                var height = Math.Max(1, Math.Min(previous.Height, line.Height));
                // A line that starts above the previous one's bottom (a new column, a jump back) also breaks the paragraph.
                markdown.Append(gap > ParagraphGap * height || line.Y < previous.Y ? "\n\n" : "\n");
            }
            markdown.Append(Escape(line.Text));
            previous = line;
        }
        return new OcrPageText(text, markdown.ToString());
    }

    /// <summary>Escapes what Markdown would read as markup: inline specials anywhere, block markers at the line start.</summary>
    public static string Escape(string line)
    {
        var escaped = new StringBuilder(line.Length + 8);
        foreach (var c in line)
        {
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|' or '~')
            {
                escaped.Append('\\');
            }
            escaped.Append(c);
        }
        var s = escaped.ToString();
        var trimmed = s.TrimStart();
        var indent = s[..(s.Length - trimmed.Length)];
        if (trimmed.Length > 0 && trimmed[0] is '#' or '-' or '+' or '=')
        {
            return indent + "\\" + trimmed;
        }
        // "1. " or "1) " would start an ordered list.
        var digits = 0;
        while (digits < trimmed.Length && char.IsAsciiDigit(trimmed[digits]))
        {
            digits++;
        }
        if (digits > 0 && digits < trimmed.Length && trimmed[digits] is '.' or ')')
        {
            return indent + trimmed[..digits] + "\\" + trimmed[digits..];
        }
        return s;
    }
}
