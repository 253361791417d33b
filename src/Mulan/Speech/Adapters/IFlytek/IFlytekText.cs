using System.Text;

namespace Mulan.Speech.Adapters.IFlytek;

/// <summary>Cuts text and audio to the sizes one iFlytek session takes.</summary>
public static class IFlytekText
{
    private const string SentenceEnds = "。！？!?；;\n…";
    private const string ClauseEnds = "，,、：: \t";

    /// <summary>
    /// Splits <paramref name="text"/> into pieces of at most <paramref name="maxBytes"/> UTF-8 bytes, each ending at a
    /// sentence end (。！？!?；; a newline, or '.' before a space) where possible, else at a clause end (，,、: or a space),
    /// else between two characters. Joined again the pieces give the text back exactly.
    /// </summary>
    public static IReadOnlyList<string> Split(string text, int maxBytes)
    {
        var pieces = new List<string>();
        var current = new StringBuilder();
        var currentBytes = 0;
        foreach (var sentence in Sentences(text))
        {
            var bytes = Encoding.UTF8.GetByteCount(sentence);
            if (currentBytes + bytes > maxBytes && current.Length > 0)
            {
                pieces.Add(current.ToString());
                current.Clear();
                currentBytes = 0;
            }
            if (bytes <= maxBytes)
            {
                current.Append(sentence);
                currentBytes += bytes;
                continue;
            }
            var rest = sentence;
            while (Encoding.UTF8.GetByteCount(rest) > maxBytes)
            {
                var cut = Cut(rest, maxBytes);
                pieces.Add(rest[..cut]);
                rest = rest[cut..];
            }
            current.Append(rest);
            currentBytes = Encoding.UTF8.GetByteCount(rest);
        }
        if (current.Length > 0)
        {
            pieces.Add(current.ToString());
        }
        return pieces;
    }

    private static IEnumerable<string> Sentences(string text)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var end = SentenceEnds.Contains(text[i], StringComparison.Ordinal)
                || (text[i] == '.' && (i + 1 == text.Length || char.IsWhiteSpace(text[i + 1])));
            if (end)
            {
                // Closing quotes and brackets stay with their sentence.
                while (i + 1 < text.Length && "”’\"')）」』".Contains(text[i + 1], StringComparison.Ordinal))
                {
                    i++;
                }
                yield return text[start..(i + 1)];
                start = i + 1;
            }
        }
        if (start < text.Length)
        {
            yield return text[start..];
        }
    }

    // The longest prefix within maxBytes, ending after a clause mark when there is one, never inside a surrogate pair.
    private static int Cut(string text, int maxBytes)
    {
        int bytes = 0, index = 0, lastClause = -1;
        foreach (var rune in text.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > maxBytes)
            {
                break;
            }
            bytes += rune.Utf8SequenceLength;
            index += rune.Utf16SequenceLength;
            if (rune.IsBmp && ClauseEnds.Contains((char)rune.Value, StringComparison.Ordinal))
            {
                lastClause = index;
            }
        }
        return lastClause > 0 ? lastClause : Math.Max(index, 1);
    }

    /// <summary>
    /// Splits 16 kHz 16-bit mono PCM into consecutive pieces of at most <paramref name="maxBytes"/>. A cut falls in the
    /// quietest 20 ms of the last five seconds before the limit, so that it rarely lands inside a word.
    /// </summary>
    public static IReadOnlyList<ReadOnlyMemory<byte>> SplitAudio(ReadOnlyMemory<byte> pcm, int maxBytes)
    {
        const int Window = 640; // 20 ms
        const int Search = 5 * 32_000;
        var pieces = new List<ReadOnlyMemory<byte>>();
        var start = 0;
        while (pcm.Length - start > maxBytes)
        {
            var span = pcm.Span;
            var from = start + Math.Max(0, maxBytes - Search);
            var best = start + maxBytes;
            var bestEnergy = long.MaxValue;
            for (var w = from; w + Window <= start + maxBytes; w += Window)
            {
                long energy = 0;
                for (var i = w; i + 1 < w + Window; i += 2)
                {
                    long sample = (short)(span[i] | (span[i + 1] << 8));
                    energy += sample * sample;
                }
                if (energy < bestEnergy)
                {
                    bestEnergy = energy;
                    best = w + Window / 2;
                }
            }
            best -= (best - start) % 2; // whole samples
            pieces.Add(pcm[start..best]);
            start = best;
        }
        pieces.Add(pcm[start..]);
        return pieces;
    }
}
