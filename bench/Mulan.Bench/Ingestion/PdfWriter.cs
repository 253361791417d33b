using System.Collections.Concurrent;
using System.Text;
using Mulan.Knowledge.Indexing.Keyword;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Mulan.Bench.Ingestion;

/// <summary>
/// PDFs set in one font: the Chinese TrueType font the tests use when it is installed (Traditional Chinese folded to
/// Simplified first, because it is a GB2312 font), else Helvetica with the English documents only. Characters the
/// font lacks are left out, and counted. A4 pages, an 18 pt title, 14 pt headings over 10.5 pt body text, so the
/// parser's font-size heading detection has something to find.
/// </summary>
internal sealed class PdfWriter : IDisposable
{
    /// <summary>Debian package fonts-arphic-gbsn00lp, as in tests/Mulan.Tests/Knowledge/Parsing/PdfFiles.cs.</summary>
    public const string ChineseFont = "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf";

    private const double TitleSize = 18;
    private const double HeadingSize = 14;
    private const double BodySize = 10.5;
    private const double Margin = 56;
    private const double A4Width = 595;

    private readonly byte[]? _font;
    private readonly ConcurrentDictionary<char, double> _widths = new();
    private readonly Lock _measureLock = new();
    private readonly PdfDocumentBuilder _measurer = new();
    private readonly PdfDocumentBuilder.AddedFont _measureFont;
    private readonly PdfPageBuilder _measurePage;
    private long _dropped;
    private long _written;
    private long _documents;
    private long _fontCopies;

    public PdfWriter()
    {
        _font = File.Exists(ChineseFont) ? File.ReadAllBytes(ChineseFont) : null;
        _measureFont = AddFont(_measurer);
        _measurePage = _measurer.AddPage(PageSize.A4);
    }

    /// <summary>False: no CJK font, so only Latin text can be set (the caller keeps to English documents).</summary>
    public bool HasChineseFont => _font is not null;

    public string FontName => _font is null ? "Helvetica (no CJK font installed)" : $"AR PL SungtiL GB ({ChineseFont})";

    /// <summary>Copies of the font embedded per document, on average (see <see cref="FontSet"/>).</summary>
    public double FontCopiesPerDocument => _documents == 0 ? 0 : (double)Interlocked.Read(ref _fontCopies) / Interlocked.Read(ref _documents);

    /// <summary>Characters left out because the font has no glyph for them, as a share of all characters.</summary>
    public double DroppedShare => _written + _dropped == 0 ? 0 : (double)Interlocked.Read(ref _dropped) / (_written + _dropped);

    public byte[] Write(CorpusDocument document)
    {
        using var builder = new PdfDocumentBuilder();
        builder.DocumentInformation.Title = Settable(document.Title);
        var fonts = new FontSet(this, builder);
        const double width = A4Width - (2 * Margin);
        PdfPageBuilder? page = null;
        var y = 0.0;
        void Line(string text, double size, double spaceBefore)
        {
            y -= spaceBefore + (size * 1.4);
            if (page is null || y < Margin)
            {
                page = builder.AddPage(PageSize.A4);
                y = page.PageSize.Top - Margin - size;
            }

            // One text run per stretch of characters that share a font copy, placed where the previous run ended.
            var x = Margin;
            var start = 0;
            for (var i = 1; i <= text.Length; i++)
            {
                if (i < text.Length && fonts.For(text[i]) == fonts.For(text[start]))
                {
                    continue;
                }

                var run = text[start..i];
                page.AddText(run, size, new PdfPoint(x, y), fonts.For(text[start]));
                x += run.Sum(Width) * size;
                start = i;
            }
        }

        foreach (var line in Wrap(Settable(document.Title), TitleSize, width))
        {
            Line(line, TitleSize, 0);
        }

        foreach (var (heading, text) in document.Sections)
        {
            var first = true;
            foreach (var line in Wrap(Settable(heading), HeadingSize, width))
            {
                Line(line, HeadingSize, first ? HeadingSize : 0);
                first = false;
            }

            first = true;
            foreach (var line in Wrap(Settable(text), BodySize, width))
            {
                Line(line, BodySize, first ? BodySize / 2 : 0);
                first = false;
            }
        }

        Interlocked.Increment(ref _documents);
        Interlocked.Add(ref _fontCopies, fonts.Copies);
        return builder.Build();
    }

    public void Dispose() => _measurer.Dispose();

    /// <summary>
    /// PdfPig writes a TrueType font as a simple font, which can set at most 255 distinct characters; a Chinese document
    /// uses thousands. So the font is added once more for every 255 new characters, each copy embedded as its own subset.
    /// </summary>
    private sealed class FontSet(PdfWriter writer, PdfDocumentBuilder builder)
    {
        private const int CharactersPerCopy = 250;
        private readonly Dictionary<char, PdfDocumentBuilder.AddedFont> _fontOf = [];
        private PdfDocumentBuilder.AddedFont? _current;
        private int _used;

        public int Copies { get; private set; }

        public PdfDocumentBuilder.AddedFont For(char c)
        {
            if (_fontOf.TryGetValue(c, out var font))
            {
                return font;
            }

            if (_current is null || (writer._font is not null && _used == CharactersPerCopy))
            {
                _current = writer.AddFont(builder);
                _used = 0;
                Copies++;
            }

            _used++;
            _fontOf[c] = _current;
            return _current;
        }
    }

    private PdfDocumentBuilder.AddedFont AddFont(PdfDocumentBuilder builder) =>
        _font is null ? builder.AddStandard14Font(Standard14Font.Helvetica) : builder.AddTrueTypeFont(_font);

    /// <summary>The text folded to what the font can set, without the characters it cannot.</summary>
    private string Settable(string text)
    {
        var folded = _font is null ? text : ChineseScript.ToSimplified(text);
        var kept = new StringBuilder(folded.Length);
        foreach (var c in folded)
        {
            if (!double.IsNaN(Width(c)))
            {
                kept.Append(c);
            }
        }

        Interlocked.Add(ref _dropped, folded.Length - kept.Length);
        Interlocked.Add(ref _written, kept.Length);
        return kept.ToString();
    }

    /// <summary>Greedy line breaking: at the last space when the line has one (English), else between characters (Chinese).</summary>
    private List<string> Wrap(string text, double size, double width)
    {
        var lines = new List<string>();
        var start = 0;
        var lastSpace = -1;
        var used = 0.0;
        for (var i = 0; i < text.Length; i++)
        {
            var advance = Width(text[i]) * size;
            if (used + advance > width && i > start)
            {
                var cut = lastSpace > start ? lastSpace + 1 : i;
                AddLine(lines, text[start..cut]);
                start = cut;
                lastSpace = -1;
                used = 0;
                for (var j = start; j < i; j++)
                {
                    used += Width(text[j]) * size;
                }
            }

            if (text[i] == ' ')
            {
                lastSpace = i;
            }

            used += advance;
        }

        AddLine(lines, text[start..]);
        return lines;
    }

    private static void AddLine(List<string> lines, string line)
    {
        var trimmed = line.Trim();
        if (trimmed.Length > 0)
        {
            lines.Add(trimmed);
        }
    }

    /// <summary>The advance of a character at 1 pt, NaN when the font has no glyph for it.</summary>
    private double Width(char c) => _widths.GetOrAdd(c, Measure);

    private double Measure(char c)
    {
        if (char.IsControl(c) || char.IsSurrogate(c))
        {
            return double.NaN;
        }

        lock (_measureLock)
        {
            try
            {
                var letters = _measurePage.MeasureText(c.ToString(), 1, new PdfPoint(0, 0), _measureFont);
                return letters.Count == 1 ? letters[0].EndBaseLine.X - letters[0].StartBaseLine.X : double.NaN;
            }
            catch (InvalidOperationException)
            {
                // PdfPig's way of saying the font has no glyph for the character.
                return double.NaN;
            }
        }
    }
}
