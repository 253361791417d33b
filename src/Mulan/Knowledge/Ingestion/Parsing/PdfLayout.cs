using System.Text;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.DocumentLayoutAnalysis;
using UglyToad.PdfPig.DocumentLayoutAnalysis.PageSegmenter;
using UglyToad.PdfPig.DocumentLayoutAnalysis.ReadingOrderDetector;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;
using UglyToad.PdfPig.DocumentLayoutAnalysis.WordExtractor;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Collects a PDF's text as runs of lines that share a font size, then tells headings from body text
/// once the whole document is seen: the body size is the size most characters are set in, and short
/// runs set clearly larger are headings, the largest size being level 1.
/// </summary>
internal sealed class PdfLayout(ParseLimits limits)
{
    private const double HeadingScale = 1.15;
    private const double HeadingMinExtraPoints = 1.0;
    private const int HeadingMaxChars = 200;
    private const int HeadingMaxLines = 3;
    private const int MaxHeadingLevels = 6;
    private const int MaxWordsForLayout = 20_000;

    private readonly List<Run> _runs = [];
    private readonly Dictionary<double, long> _charsBySize = [];
    private long _chars;

    public bool IsEmpty => _runs.Count == 0;

    /// <summary>The first heading of the document, else its first line; set by <see cref="Emit"/>.</summary>
    public string? TitleCandidate { get; private set; }

    public static bool HasText(Page page) => page.Letters.Any(l => !string.IsNullOrWhiteSpace(l.Value));

    public void AddPage(Page page, BlockCollector collector)
    {
        var letters = page.Letters.Where(l => !string.IsNullOrWhiteSpace(l.Value)).ToList();
        var words = NearestNeighbourWordExtractor.Instance.GetWords(letters).ToList();
        if (words.Count > MaxWordsForLayout)
        {
            // Layout analysis is superlinear; a page this dense is read in content order, without headings.
            AddPlainText(page.Number, ContentOrderTextExtractor.GetText(page), collector);
            return;
        }

        // Recursive X-Y cut splits on whitespace gaps, so it keeps columns apart and does not depend on
        // inter-word spacing statistics, which Chinese lines (one long "word" each) do not provide.
        var blocks = RecursiveXYCut.Instance.GetBlocks(words);
        foreach (var block in UnsupervisedReadingOrderDetector.Instance.Get(blocks))
        {
            collector.CancellationToken.ThrowIfCancellationRequested();
            Run? run = null;
            foreach (var segment in block.TextLines.SelectMany(SizeSegments))
            {
                var text = TextNormalizer.Inline(JoinWords(segment.Words, segment.Size));
                if (text.Length == 0)
                {
                    continue;
                }

                Count(segment.Size, text.Length);
                if (run is null || !SameSize(run.Size, segment.Size))
                {
                    run = new Run(page.Number, segment.Size, Plain: false, []);
                    _runs.Add(run);
                }

                run.Lines.Add(text);
            }
        }
    }

    /// <summary>Text without layout (OCR output, over-dense pages): paragraphs, never headings.</summary>
    public void AddPlainText(int page, string text, BlockCollector collector)
    {
        foreach (var paragraph in BlockCollector.SplitParagraphs(text))
        {
            collector.CancellationToken.ThrowIfCancellationRequested();
            var clean = TextNormalizer.Lines(paragraph);
            if (clean.Length > 0)
            {
                Count(0, clean.Length);
                _runs.Add(new Run(page, 0, Plain: true, [clean]));
            }
        }
    }

    public void Emit(BlockCollector collector)
    {
        if (_runs.Count == 0)
        {
            return;
        }

        var body = _charsBySize.Where(p => p.Key > 0).OrderByDescending(p => p.Value).Select(p => p.Key).FirstOrDefault();
        var headingSizes = _runs.Where(r => IsHeading(r, body)).Select(r => r.Size).Distinct().OrderDescending().ToList();
        foreach (var run in _runs)
        {
            var text = run.Plain ? run.Lines[0] : TextNormalizer.JoinWords(run.Lines);
            if (IsHeading(run, body))
            {
                TitleCandidate ??= text;
                collector.Heading(Math.Min(headingSizes.IndexOf(run.Size) + 1, MaxHeadingLevels), text, run.Page);
            }
            else
            {
                collector.Add(BlockKind.Paragraph, text, run.Page);
            }
        }

        TitleCandidate ??= Truncate(_runs[0].Lines[0]);
    }

    private static bool IsHeading(Run run, double body) =>
        !run.Plain
        && body > 0
        && run.Size >= body * HeadingScale
        && run.Size - body >= HeadingMinExtraPoints
        && run.Lines.Count <= HeadingMaxLines
        && run.Lines.Sum(l => l.Length) <= HeadingMaxChars
        && run.Lines.Any(l => l.Any(char.IsLetter));

    /// <summary>
    /// Words of one line, left to right. Between two CJK characters a space is only written where the page
    /// shows one (a gap of at least 0.4 em); otherwise glyphs placed one by one would come out "中 文".
    /// </summary>
    private static string JoinWords(List<Word> words, double size)
    {
        var sb = new StringBuilder();
        Word? previous = null;
        foreach (var word in words.OrderBy(w => w.BoundingBox.Left))
        {
            if (previous is not null)
            {
                var bothCjk = TextNormalizer.EndsWithCjk(previous.Text) && TextNormalizer.StartsWithCjk(word.Text);
                if (!bothCjk || word.BoundingBox.Left - previous.BoundingBox.Right >= size * 0.4)
                {
                    sb.Append(' ');
                }
            }

            sb.Append(word.Text);
            previous = word;
        }

        return sb.ToString();
    }

    /// <summary>
    /// A line split where the font size changes (a run-in heading, or rows a segmenter put together on a
    /// sparse page): a heading must not hide inside a paragraph.
    /// </summary>
    private static IEnumerable<(double Size, List<Word> Words)> SizeSegments(TextLine line)
    {
        (double Size, List<Word> Words)? current = null;
        foreach (var word in line.Words)
        {
            var size = DominantSize(word.Letters);
            if (current is not { } open || !SameSize(open.Size, size))
            {
                if (current is { } done)
                {
                    yield return done;
                }

                current = (size, []);
            }

            current.Value.Words.Add(word);
        }

        if (current is { } last)
        {
            yield return last;
        }
    }

    /// <summary>The point size most letters are set in, to the nearest half point.</summary>
    private static double DominantSize(IEnumerable<Letter> letters) =>
        letters.GroupBy(l => Math.Round(l.PointSize * 2) / 2)
            .OrderByDescending(g => g.Count())
            .Select(g => g.Key)
            .FirstOrDefault();

    private static bool SameSize(double a, double b) => Math.Abs(a - b) <= Math.Max(a, b) * 0.05;

    private static string Truncate(string text) => text.Length <= HeadingMaxChars ? text : text[..HeadingMaxChars];

    private void Count(double size, int chars)
    {
        _chars += chars;
        if (_chars > limits.MaxTextChars)
        {
            throw new DocumentParseException($"document text exceeds {ByteSize.Number(limits.MaxTextChars)} characters");
        }

        _charsBySize[size] = _charsBySize.GetValueOrDefault(size) + chars;
    }

    private sealed record Run(int Page, double Size, bool Plain, List<string> Lines);
}
