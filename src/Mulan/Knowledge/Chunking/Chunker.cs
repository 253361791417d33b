using System.Text;

namespace Mulan.Knowledge.Chunking;

/// <summary>A run of text from a parsed document: its heading path and (for paged formats) its page.</summary>
public sealed record TextBlock(string Text, IReadOnlyList<string> SectionPath, int? Page);

public sealed record ChunkDraft(string Text, string? Section, int? Page);

/// <summary>
/// Cuts a document into chunks no longer than <see cref="ChunkingOptions.MaxChars"/>. A chunk never spans two
/// sections (a heading starts a new chunk), breaks fall on sentence boundaries (Chinese and English) unless a
/// single sentence is itself too long, and consecutive chunks of a section overlap by whole sentences.
/// </summary>
public sealed class Chunker(ChunkingOptions options)
{
    public const string SectionSeparator = " › ";

    public IReadOnlyList<ChunkDraft> Split(IEnumerable<TextBlock> blocks)
    {
        var chunks = new List<ChunkDraft>();
        var current = new List<(string Sentence, int? Page)>();
        string? section = null;
        var sectionKey = (IReadOnlyList<string>?)null;
        foreach (var block in blocks)
        {
            if (sectionKey is null || !sectionKey.SequenceEqual(block.SectionPath))
            {
                Flush(chunks, current, section);
                current.Clear();
                sectionKey = block.SectionPath;
                section = block.SectionPath.Count == 0 ? null : string.Join(SectionSeparator, block.SectionPath);
            }
            var text = block.Text.Trim();
            if (text.Length == 0)
            {
                continue;
            }
            // Blocks within a section are separate paragraphs: keep them apart with a line break.
            foreach (var sentence in Sentences.Split(text + "\n"))
            {
                foreach (var piece in HardSplit(sentence, options.MaxChars))
                {
                    if (Length(current) + piece.Length > options.MaxChars && current.Count > 0)
                    {
                        Flush(chunks, current, section);
                        current = Overlap(current, options.OverlapChars, options.MaxChars - piece.Length);
                    }
                    current.Add((piece, block.Page));
                }
            }
        }
        Flush(chunks, current, section);
        return chunks;
    }

    private static int Length(List<(string Sentence, int? Page)> sentences) => sentences.Sum(s => s.Sentence.Length);

    private static void Flush(List<ChunkDraft> chunks, List<(string Sentence, int? Page)> sentences, string? section)
    {
        var text = string.Concat(sentences.Select(s => s.Sentence)).Trim();
        if (text.Length > 0)
        {
            chunks.Add(new ChunkDraft(text, section, sentences.FirstOrDefault(s => s.Sentence.Trim().Length > 0).Page));
        }
    }

    // Whole trailing sentences of the last chunk, up to the overlap budget and the room left for the next piece.
    private static List<(string Sentence, int? Page)> Overlap(List<(string Sentence, int? Page)> previous, int overlap, int room)
    {
        var kept = new List<(string Sentence, int? Page)>();
        var length = 0;
        for (var i = previous.Count - 1; i >= 0; i--)
        {
            var s = previous[i];
            if (length + s.Sentence.Length > Math.Min(overlap, room))
            {
                break;
            }
            kept.Insert(0, s);
            length += s.Sentence.Length;
        }
        return kept;
    }

    // A sentence longer than a chunk is cut at whitespace when there is some, else between characters
    // (never inside a surrogate pair).
    internal static IEnumerable<string> HardSplit(string sentence, int max)
    {
        var rest = sentence;
        while (rest.Length > max)
        {
            var cut = rest.LastIndexOfAny([' ', '\t', '\n', '\u3000', '，', '、', ','], max - 1, max / 2);
            cut = cut > 0 ? cut + 1 : max;
            if (char.IsHighSurrogate(rest[cut - 1]))
            {
                cut--;
            }
            yield return rest[..cut];
            rest = rest[cut..];
        }
        if (rest.Length > 0)
        {
            yield return rest;
        }
    }

    /// <summary>The text a chunk is indexed under: its section path first, so headings help keyword matches.</summary>
    public static string IndexText(string? section, string text) =>
        section is null ? text : new StringBuilder(section.Length + text.Length + 1).Append(section).Append('\n').Append(text).ToString();
}
