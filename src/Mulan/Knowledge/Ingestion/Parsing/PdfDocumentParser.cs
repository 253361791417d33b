using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Exceptions;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// PDF through PdfPig: text per page in reading order (nearest-neighbour words, recursive X-Y cut blocks,
/// unsupervised reading order), headings by font size, pages without a text layer through OCR when available.
/// Password-protected PDFs fail as "encrypted PDF"; PDFs encrypted with an empty user password (only
/// permissions restricted) open and are read like any other.
/// </summary>
public sealed class PdfDocumentParser(OcrEngine? ocr = null) : IDocumentParser
{
    private const string Corrupt = "truncated or corrupt PDF";

    public string Format => "pdf";

    public bool Accepts(string extension, string? mediaType, ReadOnlySpan<byte> head) =>
        FileNames.HasExtension(extension, ".pdf")
        || FileNames.HasMediaType(mediaType, "application/pdf", "application/x-pdf")
        || FormatSniffer.IsPdf(head);

    public ParsedDocument Parse(Stream input, string fileName, ParseLimits limits, CancellationToken ct)
    {
        var data = InputBuffer.Read(input, limits, ct);
        if (!FormatSniffer.IsPdf(data) || !HasEndMarker(data))
        {
            throw new DocumentParseException(Corrupt);
        }

        var budget = new PdfStreamBudget(limits.MaxInflatedBytes);
        ParsedDocument parsed;
        try
        {
            // PdfPig's layout analysis recurses with the page's structure: give it a deep stack of its own.
            parsed = LargeStack.Run(() => ParseFailure.Guard(Corrupt, () => Read(data, budget, fileName, limits, ct)));
        }
        catch (DocumentParseException ex) when (budget.Failure is { } reason && ex.Reason != reason)
        {
            throw new DocumentParseException(reason, ex);
        }

        // PdfPig skips some unreadable streams in lenient mode; a refused bomb must still fail the document.
        return budget.Failure is { } refused ? throw new DocumentParseException(refused) : parsed;
    }

    private ParsedDocument Read(ArraySegment<byte> data, PdfStreamBudget budget, string fileName, ParseLimits limits, CancellationToken ct)
    {
        using var pdf = Open(data, budget);
        if (pdf.NumberOfPages > limits.MaxPages)
        {
            throw new DocumentParseException($"PDF has more than {ByteSize.Number(limits.MaxPages)} pages");
        }

        var layout = new PdfLayout(limits);
        var collector = new BlockCollector(limits, ct);
        var pagesWithoutText = 0;
        for (var number = 1; number <= pdf.NumberOfPages; number++)
        {
            ct.ThrowIfCancellationRequested();
            var page = pdf.GetPage(number);
            if (PdfLayout.HasText(page))
            {
                layout.AddPage(page, collector);
            }
            else
            {
                pagesWithoutText++;
                if (ocr is not null)
                {
                    layout.AddPlainText(number, RecognizePage(page, limits, ct), collector);
                }
            }
        }

        if (pagesWithoutText > 0 && ocr is null && layout.IsEmpty)
        {
            throw new DocumentParseException("scanned PDF without a text layer: OCR (tesseract) is not installed");
        }

        layout.Emit(collector);
        return new ParsedDocument(Title(pdf, layout, fileName), Format, collector.Blocks);
    }

    private static PdfDocument Open(ArraySegment<byte> data, PdfStreamBudget budget)
    {
        try
        {
            return PdfDocument.Open(data.AsMemory(), new ParsingOptions
            {
                UseLenientParsing = true,
                SkipMissingFonts = true,
                ClipPaths = false,
                FilterProvider = budget,
            });
        }
        catch (PdfDocumentEncryptedException ex)
        {
            throw new DocumentParseException("encrypted PDF", ex);
        }
        catch (Exception ex) when (ParseFailure.IsReaderFailure(ex) && budget.Failure is null && DeclaresEncryption(data))
        {
            // Encryption PdfPig cannot undo (unknown handlers, broken keys) is still encryption to the user.
            throw new DocumentParseException("encrypted PDF", ex);
        }
    }

    private string RecognizePage(Page page, ParseLimits limits, CancellationToken ct)
    {
        const int MaxImagesPerPage = 16;
        var texts = new List<string>();
        foreach (var image in page.GetImages().Take(MaxImagesPerPage))
        {
            ct.ThrowIfCancellationRequested();
            if ((long)image.WidthInSamples * image.HeightInSamples > limits.MaxImagePixels)
            {
                throw new DocumentParseException($"page {page.Number} holds an image too large for OCR");
            }

            if (EncodedImage(image) is { } bytes)
            {
                texts.Add(ocr!.Recognize(bytes, ct));
            }
        }

        return string.Join("\n\n", texts);
    }

    /// <summary>An image tesseract can read: PNG when PdfPig can decode the samples, else the raw JPEG.</summary>
    private static byte[]? EncodedImage(IPdfImage image)
    {
        if (image.TryGetPng(out var png))
        {
            return png;
        }

        var raw = image.RawMemory.Span;
        return raw.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? raw.ToArray() : null;
    }

    private static string Title(PdfDocument pdf, PdfLayout layout, string fileName)
    {
        var metadata = TextNormalizer.Inline(pdf.Information.Title ?? "");
        const string WordPrefix = "Microsoft Word - ";
        if (metadata.StartsWith(WordPrefix, StringComparison.Ordinal))
        {
            metadata = metadata[WordPrefix.Length..];
        }

        if (metadata.Length > 0 && !metadata.Equals("untitled", StringComparison.OrdinalIgnoreCase))
        {
            return metadata;
        }

        return layout.TitleCandidate ?? FileNames.Title(fileName);
    }

    /// <summary>Every complete PDF ends with %%EOF (give or take trailing whitespace or junk); a cut upload does not.</summary>
    private static bool HasEndMarker(ReadOnlySpan<byte> data) => data[Math.Max(0, data.Length - (32 * 1024))..].LastIndexOf("%%EOF"u8) >= 0;

    private static bool DeclaresEncryption(ReadOnlySpan<byte> data) => data.IndexOf("/Encrypt"u8) >= 0;
}
