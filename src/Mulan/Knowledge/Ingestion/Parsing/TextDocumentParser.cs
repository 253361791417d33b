namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Plain text: encoding from a BOM, else strict UTF-8, else GB18030 or Big5 by a frequency heuristic;
/// paragraphs split on blank lines (line breaks inside a paragraph kept); title = file name without extension.
/// </summary>
public sealed class TextDocumentParser : IDocumentParser
{
    public string Format => "text";

    public bool Accepts(string extension, string? mediaType, ReadOnlySpan<byte> head) =>
        FileNames.HasExtension(extension, ".txt", ".text", ".log")
        || FileNames.HasMediaType(mediaType, "text/plain");

    public ParsedDocument Parse(Stream input, string fileName, ParseLimits limits, CancellationToken ct)
    {
        var data = InputBuffer.Read(input, limits, ct);
        var text = TextDecoder.Decode(data);
        var collector = new BlockCollector(limits, ct);
        collector.AddParagraphs(text, null);
        return new ParsedDocument(FileNames.Title(fileName), Format, collector.Blocks);
    }
}
