using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

/// <summary>Runs the default parser set over in-memory test files.</summary>
internal static class TestDocuments
{
    public static ParsedDocument Parse(byte[] file, string fileName, string? mediaType = null, ParseLimits? limits = null, OcrEngine? ocr = null) =>
        DocumentParsers.CreateDefault(ocr).Parse(new MemoryStream(file), fileName, mediaType, limits ?? ParseLimits.Default, CancellationToken.None);

    public static DocumentParseException Fails(byte[] file, string fileName, ParseLimits? limits = null, OcrEngine? ocr = null) =>
        Assert.Throws<DocumentParseException>(() => Parse(file, fileName, limits: limits, ocr: ocr));

    public static string AllText(this ParsedDocument document) => string.Join("\n", document.Blocks.Select(b => b.Text));

    public static DocumentBlock Block(this ParsedDocument document, string containing) =>
        document.Blocks.FirstOrDefault(b => b.Text.Contains(containing, StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no block contains \"{containing}\"; blocks:\n{string.Join("\n", document.Blocks.Select(b => $"  {b.Kind} p{b.Page} [{string.Join(" > ", b.SectionPath)}] {b.Text}"))}");
}
