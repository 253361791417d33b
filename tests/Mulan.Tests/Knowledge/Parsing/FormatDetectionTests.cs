using System.Text;
using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

public sealed class FormatDetectionTests
{
    [Fact]
    public void MagicBytes_WinOverAMisleadingExtension()
    {
        Assert.Equal("pdf", TestDocuments.Parse(PdfFiles.Report("r"), "report.txt").Format);
        Assert.Equal("images need OCR: tesseract is not installed", TestDocuments.Fails(OcrSample.Png, "photo.txt").Reason);
    }

    [Theory]
    [InlineData("docx", "upload.zip")]
    [InlineData("xlsx", "upload.bin")]
    [InlineData("pptx", "upload")]
    public void OfficePackages_AreToldApartByTheirContentTypes(string format, string fileName)
    {
        var file = format switch
        {
            "docx" => OfficeFiles.Report("r"),
            "xlsx" => OfficeFiles.Workbook(),
            _ => OfficeFiles.Deck(),
        };

        Assert.Equal(format, TestDocuments.Parse(file, fileName).Format);
    }

    [Theory]
    [InlineData("notes.md", "markdown")]
    [InlineData("PAGE.HTM", "html")]
    [InlineData("rows.tsv", "csv")]
    [InlineData("log.txt", "text")]
    public void WithoutMagicBytes_TheExtensionDecides(string fileName, string format)
    {
        Assert.Equal(format, TestDocuments.Parse(Encoding.UTF8.GetBytes("a\tb\n1\t2\n"), fileName).Format);
    }

    [Theory]
    [InlineData("text/markdown", "markdown")]
    [InlineData("text/html; charset=utf-8", "html")]
    [InlineData("text/csv", "csv")]
    [InlineData("text/plain", "text")]
    public void WithoutExtension_TheMediaTypeDecides(string mediaType, string format)
    {
        Assert.Equal(format, TestDocuments.Parse(Encoding.UTF8.GetBytes("# a\n"), "README", mediaType).Format);
    }

    [Fact]
    public void UnknownFormat_FailsNamingTheExtension()
    {
        Assert.Equal("unsupported format '.xyz'", TestDocuments.Fails(Encoding.UTF8.GetBytes("data"), "file.xyz").Reason);
        Assert.Equal("unsupported format (no file extension)", TestDocuments.Fails(Encoding.UTF8.GetBytes("data"), "file").Reason);
    }

    [Fact]
    public void LegacyBinaryOfficeFile_FailsAskingForTheCurrentFormat()
    {
        byte[] doc = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, .. new byte[2048]];

        Assert.Equal(
            "legacy binary Office format (.doc, .xls, .ppt) is not supported: save it as .docx, .xlsx or .pptx and upload it again",
            TestDocuments.Fails(doc, "old.doc").Reason);
    }

    [Fact]
    public void CustomParserSet_OnlyUsesTheParsersItWasGiven()
    {
        var parsers = new DocumentParsers([new TextDocumentParser()]);

        var failure = Assert.Throws<DocumentParseException>(() =>
            parsers.Parse(new MemoryStream(Encoding.UTF8.GetBytes("# a")), "a.md", null, ParseLimits.Default, CancellationToken.None));

        Assert.Equal("unsupported format '.md'", failure.Reason);
    }
}
