namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>Picks the parser for an upload and runs it.</summary>
public sealed class DocumentParsers
{
    private const int HeadBytes = 4096;
    private readonly IDocumentParser[] _parsers;

    public DocumentParsers(IEnumerable<IDocumentParser> parsers)
    {
        ArgumentNullException.ThrowIfNull(parsers);
        _parsers = [.. parsers];
    }

    public IReadOnlyList<IDocumentParser> Parsers => _parsers;

    /// <summary>All built-in parsers. Images (and PDF pages without a text layer) are read only when <paramref name="ocr"/> is given, e.g. <see cref="OcrEngine.Detect()"/>.</summary>
    public static DocumentParsers CreateDefault(OcrEngine? ocr = null) => new(
    [
        new PdfDocumentParser(ocr),
        new DocxDocumentParser(),
        new XlsxDocumentParser(),
        new PptxDocumentParser(),
        new HtmlDocumentParser(),
        new MarkdownDocumentParser(),
        new CsvDocumentParser(),
        new TextDocumentParser(),
        new ImageDocumentParser(ocr),
    ]);

    /// <summary>
    /// Picks by magic bytes first (%PDF, PK zip → [Content_Types].xml / part names tell docx/xlsx/pptx,
    /// PNG/JPEG/TIFF/GIF/WebP), then extension, then media type; unknown → DocumentParseException("unsupported format '.xyz'").
    /// </summary>
    /// <exception cref="DocumentParseException">The document cannot be read; the reason is user-facing.</exception>
    public ParsedDocument Parse(Stream input, string fileName, string? mediaType, ParseLimits limits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        var data = InputBuffer.Read(input, limits, ct);
        var parser = ParseFailure.Guard("unreadable file", () => Choose(data, fileName, mediaType, limits));
        using var buffered = InputBuffer.AsStream(data);
        return ParseFailure.Guard($"unreadable {parser.Format} file", () => parser.Parse(buffered, fileName, limits, ct));
    }

    private IDocumentParser Choose(ArraySegment<byte> data, string fileName, string? mediaType, ParseLimits limits)
    {
        var extension = FileNames.Extension(fileName);
        if (FormatSniffer.IsCompoundFile(data))
        {
            throw FormatSniffer.CompoundFileFailure(data, extension is ".docx" or ".xlsx" or ".pptx" ? extension[1..].ToUpperInvariant() : "Office document");
        }

        if (FormatSniffer.Detect(data, limits) is { } detected && Array.Find(_parsers, p => p.Format == detected) is { } byContent)
        {
            return byContent;
        }

        var head = ((ReadOnlySpan<byte>)data)[..Math.Min(data.Count, HeadBytes)];
        foreach (var parser in _parsers)
        {
            if (extension.Length > 0 && parser.Accepts(extension, null, head))
            {
                return parser;
            }
        }

        foreach (var parser in _parsers)
        {
            if (!string.IsNullOrWhiteSpace(mediaType) && parser.Accepts("", mediaType, head))
            {
                return parser;
            }
        }

        throw new DocumentParseException($"unsupported format {FileNames.Quoted(fileName)}");
    }
}
