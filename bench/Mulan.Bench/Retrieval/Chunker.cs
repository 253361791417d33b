namespace Mulan.Bench.Retrieval;

/// <summary>
/// The benchmark's own chunker (independent of ingestion's, so the benchmark measures the index alone): whole
/// sentences packed greedily up to the limit; a sentence longer than the limit is cut at its last space before
/// the limit, or hard at the limit when it has none (Chinese). Chunks are contiguous and cover the text.
/// </summary>
internal static class Chunker
{
    private static readonly char[] SentenceEnds = ['。', '！', '？', '；', '!', '?', ';', '\n'];

    public static IReadOnlyList<(int Start, int Length)> Split(string text, int maxChars)
    {
        var sentences = new List<(int Start, int Length)>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var end = SentenceEnds.Contains(text[i]) || (text[i] == '.' && (i + 1 == text.Length || text[i + 1] == ' '));
            if (end)
            {
                sentences.Add((start, i + 1 - start));
                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            sentences.Add((start, text.Length - start));
        }

        var chunks = new List<(int Start, int Length)>();
        var chunkStart = 0;
        var chunkLength = 0;
        foreach (var (sentenceStart, sentenceLength) in sentences)
        {
            if (chunkLength > 0 && chunkLength + sentenceLength > maxChars)
            {
                chunks.Add((chunkStart, chunkLength));
                chunkStart = sentenceStart;
                chunkLength = 0;
            }

            chunkLength += sentenceLength;
            while (chunkLength > maxChars)
            {
                var cut = text.LastIndexOf(' ', chunkStart + maxChars - 1, maxChars);
                var length = cut > chunkStart ? cut + 1 - chunkStart : maxChars;
                chunks.Add((chunkStart, length));
                chunkStart += length;
                chunkLength -= length;
            }
        }

        if (chunkLength > 0)
        {
            chunks.Add((chunkStart, chunkLength));
        }

        return chunks;
    }
}
