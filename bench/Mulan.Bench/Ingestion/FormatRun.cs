using System.Globalization;
using System.Text;
using Mulan.Bench.Hosting;
using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Bench.Ingestion;

/// <param name="TextBytes">UTF-8 bytes of every block the parser extracted (headings included).</param>
/// <param name="Headings">heading blocks found; <paramref name="ExpectedHeadings"/> were written.</param>
internal sealed record FormatResult(
    string Format, int Documents, long FileBytes, long TextBytes, int Headings, int ExpectedHeadings, StageResult Parse, int Rounds, int Passes)
{
    public double FileMegabytesPerSecond => FileBytes * Passes / 1e6 / Parse.Seconds;

    public double TextMegabytesPerSecond => TextBytes * Passes / 1e6 / Parse.Seconds;
}

/// <summary>
/// The parse stage per real format: the same documents written as Markdown, HTML, DOCX and PDF, each parsed by
/// <see cref="DocumentParsers"/> as the worker calls it, with one worker per core; the median of
/// <see cref="Rounds"/> rounds after a warm-up pass (these parsers have not run before in this process).
/// </summary>
internal sealed class FormatRun(Progress progress)
{
    private const int Rounds = 3;
    private const double MinRoundSeconds = 1.0;

    private readonly DocumentParsers _parsers = DocumentParsers.CreateDefault(ocr: null);
    private readonly ParseLimits _limits = new() { MaxInputBytes = new Mulan.Knowledge.KnowledgeOptions().MaxFileBytes };

    public List<string> Notes { get; } = [];

    public async Task<IReadOnlyList<FormatResult>> RunAsync(IngestionCorpus corpus, int count, CancellationToken ct)
    {
        using var pdf = new PdfWriter();
        var documents = Take(corpus, count, _ => true);
        var pdfDocuments = pdf.HasChineseFont ? documents : Take(corpus, count, d => d.FileName.StartsWith("xquad-en", StringComparison.Ordinal));
        var formats = new (string Name, string Extension, string MediaType, IReadOnlyList<CorpusDocument> Documents, Func<CorpusDocument, byte[]> Write)[]
        {
            ("Markdown", ".md", "text/markdown", documents, d => d.Markdown()),
            ("HTML", ".html", "text/html", documents, FormatFiles.Html),
            ("DOCX", ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", documents, FormatFiles.Docx),
            ("PDF", ".pdf", "application/pdf", pdfDocuments, pdf.Write),
        };

        var results = new List<FormatResult>();
        foreach (var (name, extension, mediaType, docs, write) in formats)
        {
            progress.Say(Invariant($"formats: writing {docs.Count:N0} {name} files (not timed)"));
            var files = new byte[docs.Count][];
            Parallel.For(0, docs.Count, new ParallelOptions { MaxDegreeOfParallelism = Stage.Workers, CancellationToken = ct }, i => files[i] = write(docs[i]));
            var fileNames = docs.Select(d => Path.ChangeExtension(d.FileName, extension)).ToArray();
            var fileBytes = files.Sum(f => (long)f.Length);
            var parsed = new ParsedDocument[docs.Count];
            void Parse(int i)
            {
                using var content = new MemoryStream(files[i], writable: false);
                parsed[i] = _parsers.Parse(content, fileNames[i], mediaType, _limits, ct);
            }

            // Warm-up and calibration: Markdown, HTML and DOCX parse a small set in a fraction of a second, too short
            // to time on a noisy machine, so a round goes over the set as many times as fill about a second.
            var calibration = await Stage.Measure(name, docs.Count, fileBytes, 0, Parse, ct);
            var passes = (int)Math.Clamp(Math.Ceiling(MinRoundSeconds / calibration.Seconds), 1, 100);
            progress.Say(Invariant($"formats: parsing {name}, {Rounds} rounds of {passes} pass(es)"));
            var rounds = new List<StageResult>();
            for (var round = 0; round < Rounds; round++)
            {
                rounds.Add(await Stage.Measure(name, docs.Count * passes, fileBytes * passes, 0, i => Parse(i % docs.Count), ct));
            }

            var blocks = parsed.SelectMany(p => p.Blocks).ToList();
            results.Add(new FormatResult(
                name, docs.Count, fileBytes, blocks.Sum(b => (long)Encoding.UTF8.GetByteCount(b.Text)),
                blocks.Count(b => b.Kind == BlockKind.Heading), docs.Sum(d => 1 + d.Sections.Count),
                rounds.OrderBy(r => r.Seconds).ElementAt(rounds.Count / 2), Rounds, passes));
        }

        Notes.Add(pdf.HasChineseFont
            ? Invariant($"PDF: set in {pdf.FontName}; Traditional Chinese folded to Simplified first (a GB2312 font), and {pdf.DroppedShare:P2} of the characters had no glyph even so and were left out. PdfPig writes a TrueType font as a simple font of at most 255 characters, so a Chinese document embeds {pdf.FontCopiesPerDocument:F1} subset copies of it on average, which is most of the file size; real CJK PDFs carry one composite (Type 0) font instead")
            : Invariant($"PDF: {pdf.FontName}: the PDF arm uses the English documents only ({pdfDocuments.Count:N0}); {pdf.DroppedShare:P2} of the characters had no glyph and were left out"));
        return results;
    }

    /// <summary>The first <paramref name="count"/> documents that match, replicating the corpus as far as needed.</summary>
    private static List<CorpusDocument> Take(IngestionCorpus corpus, int count, Func<CorpusDocument, bool> keep)
    {
        for (var replicas = 1; ; replicas *= 2)
        {
            var matching = corpus.Documents(replicas).Where(keep).Take(count).ToList();
            if (matching.Count == count || replicas > count)
            {
                return matching;
            }
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
