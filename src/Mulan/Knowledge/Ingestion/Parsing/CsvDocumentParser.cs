namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// CSV and TSV: the first record is the header; every data row becomes its own Table block
/// "header1: value1; header2: value2" (empty values left out) so one row can be retrieved on its own.
/// The section is the file name.
/// </summary>
public sealed class CsvDocumentParser : IDocumentParser
{
    public string Format => "csv";

    public bool Accepts(string extension, string? mediaType, ReadOnlySpan<byte> head) =>
        FileNames.HasExtension(extension, ".csv", ".tsv", ".tab")
        || FileNames.HasMediaType(mediaType, "text/csv", "text/tab-separated-values", "application/csv");

    public ParsedDocument Parse(Stream input, string fileName, ParseLimits limits, CancellationToken ct)
    {
        var text = TextDecoder.Decode(InputBuffer.Read(input, limits, ct));
        var delimiter = FileNames.HasExtension(FileNames.Extension(fileName), ".tsv", ".tab") ? '\t' : DelimitedTextReader.GuessDelimiter(text);
        var collector = new BlockCollector(limits, ct);
        collector.EnterSection(1, FileNames.Leaf(fileName));
        List<string>? headers = null;
        long cells = 0;
        foreach (var record in DelimitedTextReader.Read(text, delimiter))
        {
            cells += record.Count;
            if (cells > limits.MaxCells)
            {
                throw new DocumentParseException($"table has more than {ByteSize.Number(limits.MaxCells)} cells");
            }

            if (headers is null)
            {
                headers = [.. record.Select((h, i) => TextNormalizer.Inline(h) is { Length: > 0 } name ? name : Column(i))];
                continue;
            }

            var pairs = record
                .Select((value, i) => (Header: i < headers.Count ? headers[i] : Column(i), Value: TextNormalizer.Inline(value)))
                .Where(p => p.Value.Length > 0)
                .Select(p => $"{p.Header}: {p.Value}");
            collector.Add(BlockKind.Table, string.Join("; ", pairs), null);
        }

        return new ParsedDocument(FileNames.Title(fileName), Format, collector.Blocks);
    }

    private static string Column(int index) => $"column {index + 1}";
}
