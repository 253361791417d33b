using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mulan.Bench.Ingestion;

/// <summary>A paragraph of a SQuAD-format set, with the title of the article it comes from.</summary>
internal sealed record SourceParagraph(string Article, int Number, string Text);

/// <summary>One generated document: a title and a heading over each paragraph.</summary>
internal sealed record CorpusDocument(string FileName, string Title, IReadOnlyList<(string Heading, string Text)> Sections)
{
    /// <summary>The document as Markdown: the title as the level-1 heading, each paragraph under a level-2 heading.</summary>
    public byte[] Markdown()
    {
        var text = new StringBuilder();
        text.Append("# ").Append(Title).Append("\n\n");
        foreach (var (heading, paragraph) in Sections)
        {
            text.Append("## ").Append(heading).Append("\n\n").Append(paragraph).Append("\n\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}

/// <summary>
/// The pooled corpus of the retrieval benchmark (DRCD dev, XQuAD zh, XQuAD en: contexts only), cut into documents
/// of <see cref="ParagraphsPerDocument"/> consecutive paragraphs of one dataset, and replicated. Every replica
/// carries its number in the document title, which is also the first element of every chunk's section path, so
/// no two replicas have the same file bytes or the same indexed text.
/// </summary>
internal sealed class IngestionCorpus
{
    public const int ParagraphsPerDocument = 20;

    private readonly IReadOnlyList<(string Name, string Slug, IReadOnlyList<SourceParagraph> Paragraphs)> _datasets;

    private IngestionCorpus(IReadOnlyList<(string Name, string Slug, IReadOnlyList<SourceParagraph> Paragraphs)> datasets)
    {
        _datasets = datasets;
    }

    public int Paragraphs => _datasets.Sum(d => d.Paragraphs.Count);

    /// <summary>Documents in one replica.</summary>
    public int DocumentsPerReplica => _datasets.Sum(d => (d.Paragraphs.Count + ParagraphsPerDocument - 1) / ParagraphsPerDocument);

    public string Describe() =>
        string.Join(", ", _datasets.Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.Name} {d.Paragraphs.Count:N0} paragraphs")));

    public static IngestionCorpus Load(string datasets) => new(
    [
        ("DRCD dev", "drcd", Read(Path.Combine(datasets, "drcd", "DRCD_dev.json"))),
        ("XQuAD zh", "xquad-zh", Read(Path.Combine(datasets, "xquad", "xquad.zh.json"))),
        ("XQuAD en", "xquad-en", Read(Path.Combine(datasets, "xquad", "xquad.en.json"))),
    ]);

    /// <summary>The corpus replicated <paramref name="replicas"/> times, replica after replica.</summary>
    public IReadOnlyList<CorpusDocument> Documents(int replicas)
    {
        var documents = new List<CorpusDocument>(DocumentsPerReplica * replicas);
        for (var replica = 1; replica <= replicas; replica++)
        {
            foreach (var (name, slug, paragraphs) in _datasets)
            {
                for (int start = 0, number = 1; start < paragraphs.Count; start += ParagraphsPerDocument, number++)
                {
                    var sections = paragraphs.Skip(start).Take(ParagraphsPerDocument)
                        .Select(p => (Invariant($"{p.Article} ({p.Number})"), p.Text))
                        .ToList();
                    documents.Add(new CorpusDocument(
                        Invariant($"{slug}-{number:000}-copy{replica:000}.md"), Invariant($"{name} {number:000}, copy {replica}"), sections));
                }
            }
        }

        return documents;
    }

    /// <summary>
    /// Whole documents spread evenly over <paramref name="chunkCounts"/> (every k-th one) until they hold at least
    /// <paramref name="chunks"/> chunks, so the sample has the corpus's mix of Chinese and English.
    /// </summary>
    public static IReadOnlyList<int> Sample(IReadOnlyList<int> chunkCounts, int chunks)
    {
        var total = chunkCounts.Sum();
        if (chunks >= total)
        {
            return [.. Enumerable.Range(0, chunkCounts.Count)];
        }

        var stride = Math.Max(1, (int)(total / (double)chunks));
        var picked = new List<int>();
        var sum = 0;
        for (var offset = 0; offset < stride && sum < chunks; offset++)
        {
            for (var i = offset; i < chunkCounts.Count && sum < chunks; i += stride)
            {
                picked.Add(i);
                sum += chunkCounts[i];
            }
        }

        picked.Sort();
        return picked;
    }

    private static List<SourceParagraph> Read(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        var paragraphs = new List<SourceParagraph>();
        foreach (var article in json.RootElement.GetProperty("data").EnumerateArray())
        {
            // XQuAD titles are Wikipedia page names ("Super_Bowl_50").
            var title = (article.TryGetProperty("title", out var t) ? t.GetString() : null)?.Replace('_', ' ') ?? Path.GetFileNameWithoutExtension(path);
            var number = 0;
            foreach (var paragraph in article.GetProperty("paragraphs").EnumerateArray())
            {
                // One paragraph, one Markdown paragraph: a line break inside a context must not start a new block.
                var context = (paragraph.GetProperty("context").GetString() ?? "").ReplaceLineEndings(" ").Trim();
                if (context.Length > 0)
                {
                    paragraphs.Add(new SourceParagraph(title, ++number, context));
                }
            }
        }

        return paragraphs;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
