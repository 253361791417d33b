using System.Text;
using Mulan.Speech.Adapters;

namespace Mulan.Speech.Engines;

/// <summary>Plain OCR text made tidy and turned into Markdown: paragraphs split at blank lines, a paragraph's lines joined
/// (without a space between Chinese characters), the spaces Tesseract puts between Chinese characters removed, and
/// Markdown's special characters escaped so that recognized text never becomes markup or a link.</summary>
public static class OcrMarkdown
{
    public static OcrPageText FromPlainText(string raw) => FromParagraphs(Paragraphs(raw));

    /// <summary>The text keeps the page's line breaks (a paragraph's lines one per line, paragraphs apart by a blank line);
    /// the Markdown joins a paragraph's lines, as Markdown reflows them anyway.</summary>
    public static OcrPageText FromParagraphs(IReadOnlyList<IReadOnlyList<string>> paragraphs)
    {
        var text = string.Join("\n\n", paragraphs.Select(lines => string.Join('\n', lines)));
        var markdown = string.Join("\n\n", paragraphs.Select(lines => Escape(Transcripts.Join(lines))));
        return new OcrPageText(text, markdown);
    }

    public static IReadOnlyList<IReadOnlyList<string>> Paragraphs(string raw)
    {
        var result = new List<IReadOnlyList<string>>();
        var lines = new List<string>();
        foreach (var line in raw.Replace("\r", "", StringComparison.Ordinal).Replace("\f", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var clean = CloseWideGaps(line.Trim());
            if (clean.Length == 0)
            {
                if (lines.Count > 0)
                {
                    result.Add([.. lines]);
                    lines.Clear();
                }
                continue;
            }
            lines.Add(clean);
        }
        if (lines.Count > 0)
        {
            result.Add([.. lines]);
        }
        return result;
    }

    /// <summary>"知 識 庫" → "知識庫"; spaces between Latin words stay.</summary>
    public static string CloseWideGaps(string line)
    {
        var text = new StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == ' ' && text.Length > 0 && Transcripts.IsWide(text[^1]))
            {
                var next = i + 1;
                while (next < line.Length && line[next] == ' ')
                {
                    next++;
                }
                if (next < line.Length && Transcripts.IsWide(line[next]))
                {
                    i = next - 1;
                    continue;
                }
            }
            text.Append(line[i]);
        }
        return text.ToString();
    }

    public static string Escape(string paragraph)
    {
        var text = new StringBuilder(paragraph.Length + 8);
        for (var i = 0; i < paragraph.Length; i++)
        {
            var c = paragraph[i];
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|' or '~' or '{' or '}'
                || (c is '#' or '+' or '-' or '=' && (i == 0 || paragraph[i - 1] == '\n'))
                || (c == '!' && i + 1 < paragraph.Length && paragraph[i + 1] == '['))
            {
                text.Append('\\');
            }
            text.Append(c);
        }
        // "1. " at a paragraph's start would become a list.
        var s = text.ToString();
        var dot = 0;
        while (dot < s.Length && char.IsAsciiDigit(s[dot]))
        {
            dot++;
        }
        return dot > 0 && dot + 1 < s.Length && s[dot] is '.' or ')' && s[dot + 1] == ' ' ? s[..dot] + "\\" + s[dot..] : s;
    }
}
