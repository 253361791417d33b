using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mulan.Knowledge.Answering;

/// <summary>
/// Citation markers <c>[n]</c> in answer text, and keeping them on the line of the sentence they cite. Every marker
/// is preceded by a no-break space (U+00A0): line breaking (Unicode's UAX #14, as browsers and most terminals apply
/// it) never breaks at or next to one, also in Chinese text, where a break is otherwise allowed between any two
/// characters. <see cref="Wrap"/> is the same rule for a fixed-width terminal.
/// </summary>
public static partial class CitationMarkers
{
    public const char NoBreakSpace = '\u00A0';

    /// <summary>The markers the text cites, each once, in order of first appearance.</summary>
    public static IReadOnlyList<int> In(string text) =>
        [.. Marker().Matches(text).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct()];

    /// <summary>Joins each marker to what precedes it with one no-break space (replacing any whitespace there).</summary>
    /// <param name="followsText">the text continues an answer already sent (a streamed delta): a marker at its start
    /// still follows a sentence, so it is joined too.</param>
    public static string Attach(string text, bool followsText = false) =>
        SpacedMarker().Replace(text, m => m.Index == 0 && !followsText ? m.Groups[1].Value : NoBreakSpace + m.Groups[1].Value);

    /// <summary>Removes the markers <paramref name="keep"/> rejects, with the space before them.</summary>
    public static string Remove(string text, Func<int, bool> keep) =>
        SpacedMarker().Replace(text, m => keep(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)) ? m.Value : "");

    /// <summary>
    /// Cuts text into lines of at most <paramref name="width"/> terminal cells (a CJK character takes two), breaking at
    /// spaces and between CJK characters, never before a closing punctuation mark and never at a no-break space, so a
    /// marker always stays with the end of its sentence. A piece that cannot be broken and is wider than a line gets a
    /// line of its own.
    /// </summary>
    public static IReadOnlyList<string> Wrap(string text, int width)
    {
        width = Math.Max(1, width);
        var lines = new List<string>();
        foreach (var paragraph in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = new StringBuilder();
            var used = 0;
            foreach (var (piece, spaceBefore) in Pieces(paragraph))
            {
                var cells = Cells(piece);
                var needed = (line.Length > 0 && spaceBefore ? 1 : 0) + cells;
                if (line.Length > 0 && used + needed > width)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                    used = 0;
                    needed = cells;
                }
                if (line.Length > 0 && spaceBefore)
                {
                    line.Append(' ');
                }
                line.Append(piece);
                used += needed;
            }
            lines.Add(line.ToString());
        }
        return lines;
    }

    /// <summary>The unbreakable pieces of a line: words (a no-break space and what follows it included), and single CJK
    /// characters with the closing punctuation, no-break spaces and markers that follow them.</summary>
    private static IEnumerable<(string Piece, bool SpaceBefore)> Pieces(string text)
    {
        var i = 0;
        var spaceBefore = false;
        while (i < text.Length)
        {
            if (text[i] == ' ' || text[i] == '\t')
            {
                spaceBefore = true;
                i++;
                continue;
            }
            var start = i;
            if (IsBreakableCjk(text[i]))
            {
                i++;
            }
            else
            {
                while (i < text.Length && text[i] is not (' ' or '\t') && !IsBreakableCjk(text[i]))
                {
                    i++;
                }
            }
            // Glue what may not start a line: closing punctuation, and a no-break space with the word after it.
            while (i < text.Length)
            {
                if (IsNoBreakBefore(text[i]))
                {
                    i++;
                }
                else if (text[i] == NoBreakSpace)
                {
                    i++;
                    while (i < text.Length && text[i] is not (' ' or '\t') && !IsBreakableCjk(text[i]))
                    {
                        i++;
                    }
                }
                else
                {
                    break;
                }
            }
            yield return (text[start..i], spaceBefore);
            spaceBefore = false;
        }
    }

    private static int Cells(string piece) => piece.Sum(c => IsWide(c) ? 2 : 1);

    /// <summary>Ideographs, kana and hangul: a line may break before and after each.</summary>
    private static bool IsBreakableCjk(char c) =>
        c is >= '\u3040' and <= '\u30ff' or >= '\u3400' and <= '\u4dbf' or >= '\u4e00' and <= '\u9fff' or >= '\uac00' and <= '\ud7a3' or >= '\uf900' and <= '\ufaff';

    private static bool IsNoBreakBefore(char c) =>
        "，。、；：！？）」』】》〉〕”’…·ー～,.;:!?)]}%".Contains(c, StringComparison.Ordinal) || c is >= '\uff01' and <= '\uff0f' && c != '\uff08';

    private static bool IsWide(char c) =>
        c is >= '\u1100' and <= '\u115f' or >= '\u2e80' and <= '\ua4cf' or >= '\uac00' and <= '\ud7a3' or >= '\uf900' and <= '\ufaff'
            or >= '\ufe30' and <= '\ufe4f' or >= '\uff00' and <= '\uff60' or >= '\uffe0' and <= '\uffe6';

    [GeneratedRegex(@"\[(\d{1,3})\]")]
    private static partial Regex Marker();

    [GeneratedRegex(@"[ \t\u00A0]*(\[(\d{1,3})\])")]
    private static partial Regex SpacedMarker();
}
