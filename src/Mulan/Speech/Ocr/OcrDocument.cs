using System.Buffers.Binary;
using System.Globalization;
using Mulan.Speech.Adapters;
using Mulan.Speech.Engines;

namespace Mulan.Speech.Ocr;

/// <summary>The pages of an OCR request: an image is one page, a PDF's pages are rendered to PNG (poppler's pdftoppm).
/// The kind is told from the content, never from the file's name; sizes are checked before anything is decoded.</summary>
public sealed class OcrDocument
{
    public required string Kind { get; init; }
    public required int PageCount { get; init; }
    public required Func<int, CancellationToken, Task<OcrPageImage>> Page { get; init; }

    /// <exception cref="InvalidDocumentException">not an image or PDF, too many pages, too many pixels, corrupt.</exception>
    public static OcrDocument Open(byte[] file, SpeechOptions options)
    {
        if (ImageInfo.Read(file) is { } image)
        {
            if ((long)image.Width * image.Height > options.MaxImagePixels)
            {
                throw new InvalidDocumentException($"the image is {image.Width}×{image.Height} pixels; at most {options.MaxImagePixels} are read", 413);
            }
            var page = new OcrPageImage(0, file, image.MediaType, image.Width, image.Height);
            return new OcrDocument { Kind = image.MediaType, PageCount = 1, Page = (_, _) => Task.FromResult(page) };
        }
        if (Knowledge.Ingestion.Parsing.FormatSniffer.IsPdf(file))
        {
            var sizes = PdfPages(file);
            var pages = sizes.Count;
            if (pages > options.MaxOcrPages)
            {
                throw new InvalidDocumentException($"the PDF has {pages} pages; at most {options.MaxOcrPages} are read per request (Speech:MaxOcrPages)", 413);
            }
            return new OcrDocument { Kind = "application/pdf", PageCount = pages, Page = (i, ct) => RenderAsync(file, i, sizes[i], options, ct) };
        }
        throw new InvalidDocumentException("the file is neither an image (PNG, JPEG, TIFF, BMP, GIF, WebP) nor a PDF", 400);
    }

    /// <summary>Each page's size in points (1/72 inch).</summary>
    private static IReadOnlyList<(double Width, double Height)> PdfPages(byte[] file)
    {
        try
        {
            using var pdf = UglyToad.PdfPig.PdfDocument.Open(file, new UglyToad.PdfPig.ParsingOptions { UseLenientParsing = false });
            var sizes = new List<(double, double)>(pdf.NumberOfPages);
            for (var i = 1; i <= pdf.NumberOfPages && i <= 10_001; i++)
            {
                var page = pdf.GetPage(i);
                sizes.Add((Math.Max(1, page.Width), Math.Max(1, page.Height)));
            }
            return sizes;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // PdfPig throws its own types for every kind of broken file; all of them mean the same to the client.
            throw new InvalidDocumentException(e.Message.Contains("password", StringComparison.OrdinalIgnoreCase)
                ? "the PDF is encrypted" : "the PDF is truncated or corrupt", 400);
        }
    }

    private static async Task<OcrPageImage> RenderAsync(byte[] pdf, int index, (double Width, double Height) size, SpeechOptions options, CancellationToken ct)
    {
        var program = EngineProcess.Find("pdftoppm")
            ?? throw new Gateway.Adapters.VendorError(503, Gateway.Adapters.VendorError.Overloaded, "reading PDFs needs pdftoppm on the server (apt-get install poppler-utils)");
        var path = Path.Combine(Path.GetTempPath(), $"mulan-ocr-{Guid.NewGuid():N}.pdf");
        await File.WriteAllBytesAsync(path, pdf, ct);
        try
        {
            var number = (index + 1).ToString(CultureInfo.InvariantCulture);
            // The pixel cap bounds the rendered size whatever the page's declared size: a huge page is rendered at a lower resolution.
            var fit = Math.Sqrt(options.MaxImagePixels / (size.Width / 72 * size.Height / 72));
            var dpi = Math.Max(1, (int)Math.Min(options.PdfRenderDpi, fit)).ToString(CultureInfo.InvariantCulture);
            // Debian's pdftoppm cannot write a PNG to standard output: it writes <root>.png beside the PDF.
            var root = Path.ChangeExtension(path, null);
            var run = await EngineProcess.RunAsync(program, ["-png", "-r", dpi, "-f", number, "-l", number, "-singlefile", path, root],
                null, TimeSpan.FromSeconds(options.EngineTimeoutSeconds), 1 << 20, ct);
            var png = root + ".png";
            var bytes = run.ExitCode == 0 && File.Exists(png) ? await File.ReadAllBytesAsync(png, ct) : [];
            File.Delete(png);
            if (ImageInfo.Read(bytes) is not { } image)
            {
                throw new InvalidDocumentException($"page {index + 1} of the PDF could not be rendered", 400);
            }
            return new OcrPageImage(index, bytes, image.MediaType, image.Width, image.Height);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>The client's document cannot be read; the message is safe to return. <see cref="Status"/> is 400 or 413.</summary>
public sealed class InvalidDocumentException(string message, int status) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>An image's type and size from its header, without decoding it.</summary>
public sealed record ImageInfo(string MediaType, int Width, int Height)
{
    public static ImageInfo? Read(ReadOnlySpan<byte> d)
    {
        if (d.Length >= 24 && d.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) && d[12..16].SequenceEqual("IHDR"u8))
        {
            return Sized("image/png", (int)BinaryPrimitives.ReadUInt32BigEndian(d[16..]), (int)BinaryPrimitives.ReadUInt32BigEndian(d[20..]));
        }
        if (d.Length >= 26 && (d.StartsWith("GIF87a"u8) || d.StartsWith("GIF89a"u8)))
        {
            return Sized("image/gif", BinaryPrimitives.ReadUInt16LittleEndian(d[6..]), BinaryPrimitives.ReadUInt16LittleEndian(d[8..]));
        }
        if (d.Length >= 26 && d.StartsWith("BM"u8))
        {
            return Sized("image/bmp", BinaryPrimitives.ReadInt32LittleEndian(d[18..]), Math.Abs(BinaryPrimitives.ReadInt32LittleEndian(d[22..])));
        }
        if (d.Length >= 30 && d.StartsWith("RIFF"u8) && d[8..12].SequenceEqual("WEBP"u8))
        {
            return WebP(d);
        }
        if (d.Length >= 4 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        {
            return Jpeg(d);
        }
        if (d.Length >= 8 && (d.StartsWith("II*\0"u8) || d.StartsWith("MM\0*"u8)))
        {
            return Tiff(d);
        }
        return null;
    }

    private static ImageInfo? Sized(string type, int width, int height) => width > 0 && height > 0 ? new ImageInfo(type, width, height) : null;

    private static ImageInfo? Jpeg(ReadOnlySpan<byte> d)
    {
        var at = 2;
        while (at + 9 < d.Length)
        {
            if (d[at] != 0xFF)
            {
                return null;
            }
            var marker = d[at + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(d[(at + 2)..]);
            // Start-of-frame markers (baseline, progressive, ...) carry the size; 0xC4, 0xC8 and 0xCC are not frames.
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
            {
                return Sized("image/jpeg", BinaryPrimitives.ReadUInt16BigEndian(d[(at + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(d[(at + 5)..]));
            }
            at += 2 + length;
        }
        return null;
    }

    private static ImageInfo? WebP(ReadOnlySpan<byte> d)
    {
        var chunk = d[12..16];
        if (chunk.SequenceEqual("VP8X"u8))
        {
            return Sized("image/webp", 1 + (d[24] | (d[25] << 8) | (d[26] << 16)), 1 + (d[27] | (d[28] << 8) | (d[29] << 16)));
        }
        if (chunk.SequenceEqual("VP8 "u8))
        {
            return Sized("image/webp", BinaryPrimitives.ReadUInt16LittleEndian(d[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(d[28..]) & 0x3FFF);
        }
        if (chunk.SequenceEqual("VP8L"u8) && d.Length >= 25)
        {
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(d[21..]);
            return Sized("image/webp", (int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
        }
        return null;
    }

    private static ImageInfo? Tiff(ReadOnlySpan<byte> d)
    {
        var little = d[0] == (byte)'I';
        uint U32(ReadOnlySpan<byte> s) => little ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s);
        ushort U16(ReadOnlySpan<byte> s) => little ? BinaryPrimitives.ReadUInt16LittleEndian(s) : BinaryPrimitives.ReadUInt16BigEndian(s);
        var ifd = U32(d[4..]);
        if (ifd + 2 > d.Length)
        {
            return null;
        }
        int width = 0, height = 0;
        var count = U16(d[(int)ifd..]);
        for (var i = 0; i < count; i++)
        {
            var entry = (int)ifd + 2 + (i * 12);
            if (entry + 12 > d.Length)
            {
                break;
            }
            var tag = U16(d[entry..]);
            var type = U16(d[(entry + 2)..]);
            var value = type == 3 ? U16(d[(entry + 8)..]) : (int)U32(d[(entry + 8)..]);
            if (tag == 256)
            {
                width = value;
            }
            else if (tag == 257)
            {
                height = value;
            }
        }
        return Sized("image/tiff", width, height);
    }
}
