namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Images (PNG, JPEG, TIFF, BMP, GIF, WebP as the installed tesseract allows) read through OCR;
/// without an OCR engine every image fails with "images need OCR: tesseract is not installed".
/// </summary>
public sealed class ImageDocumentParser(OcrEngine? ocr) : IDocumentParser
{
    public string Format => "image";

    public bool Accepts(string extension, string? mediaType, ReadOnlySpan<byte> head) =>
        FileNames.HasExtension(extension, ".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".gif", ".webp")
        || FileNames.HasMediaType(mediaType, "image/png", "image/jpeg", "image/tiff", "image/bmp", "image/gif", "image/webp")
        || ImageHeader.IsImage(head);

    public ParsedDocument Parse(Stream input, string fileName, ParseLimits limits, CancellationToken ct)
    {
        if (ocr is null)
        {
            throw new DocumentParseException("images need OCR: tesseract is not installed");
        }

        var data = InputBuffer.Read(input, limits, ct);
        if (ImageHeader.Pixels(data) is { } pixels && pixels > limits.MaxImagePixels)
        {
            throw new DocumentParseException($"image is too large for OCR ({ByteSize.Number(pixels)} pixels, at most {ByteSize.Number(limits.MaxImagePixels)})");
        }

        var text = ocr.Recognize(data.ToArray(), ct);
        var collector = new BlockCollector(limits, ct);
        collector.AddParagraphs(text, null);
        return new ParsedDocument(FileNames.Title(fileName), Format, collector.Blocks);
    }
}
