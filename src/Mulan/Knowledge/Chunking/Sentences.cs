namespace Mulan.Knowledge.Chunking;

/// <summary>
/// Splits text into sentences for Chinese and English alike. A sentence keeps its terminator, any closing
/// quote or bracket, and the whitespace after it, so joining the pieces gives back the text exactly.
/// </summary>
public static class Sentences
{
    public static List<string> Split(string text)
    {
        var result = new List<string>();
        var start = 0;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            var end = -1;
            if (c == '\n')
            {
                end = i + 1;
            }
            else if (IsCjkTerminator(c))
            {
                end = i + 1;
            }
            else if (c is '.' or '!' or '?' or ';')
            {
                // English terminators end a sentence only before whitespace (not 3.14, not e.g.x, not URLs).
                var next = i + 1;
                while (next < text.Length && IsCloser(text[next]))
                {
                    next++;
                }
                if ((next >= text.Length || char.IsWhiteSpace(text[next])) && !(c == '.' && IsAbbreviation(text, i)))
                {
                    end = next;
                }
            }
            if (end < 0)
            {
                i++;
                continue;
            }
            while (end < text.Length && IsCloser(text[end]))
            {
                end++;
            }
            while (end < text.Length && text[end] is ' ' or '\t' or '\r' or '\n' or '\u3000')
            {
                end++;
            }
            result.Add(text[start..end]);
            start = end;
            i = end;
        }
        if (start < text.Length)
        {
            result.Add(text[start..]);
        }
        return result;
    }

    private static readonly HashSet<string> Abbreviations = new(StringComparer.OrdinalIgnoreCase)
    {
        "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "no", "fig", "inc", "ltd", "co", "jr", "sr", "approx", "dept",
    };

    // "e.g. to" is not the end of a sentence: look at the word before the dot.
    private static bool IsAbbreviation(string text, int dot)
    {
        var start = dot;
        while (start > 0 && !char.IsWhiteSpace(text[start - 1]) && text[start - 1] is not ('(' or '"'))
        {
            start--;
        }
        return Abbreviations.Contains(text[start..dot]);
    }

    private static bool IsCjkTerminator(char c) => c is '。' or '！' or '？' or '；' or '…' or '｡' or '．';

    private static bool IsCloser(char c) => c is '"' or '\'' or ')' or ']' or '」' or '』' or '”' or '’' or '）' or '】' or '》' or '〉';
}
