using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

public sealed class PdfParsingTests
{
    [Fact]
    public void Pdf_MultiPage_KeepsPageNumbersAndReadingOrder()
    {
        var document = TestDocuments.Parse(PdfFiles.Report("Annual Report 2025"), "report.pdf");

        Assert.Equal("pdf", document.Format);
        Assert.Equal(1, document.Block("Revenue grew").Page);
        Assert.Equal(2, document.Block("Costs stayed flat").Page);
        var text = document.AllText();
        Assert.True(text.IndexOf("Revenue grew", StringComparison.Ordinal) < text.IndexOf("second half", StringComparison.Ordinal));
        Assert.True(text.IndexOf("second half", StringComparison.Ordinal) < text.IndexOf("Costs stayed flat", StringComparison.Ordinal));
    }

    [Fact]
    public void Pdf_LargerFontLines_BecomeHeadingsThatBuildTheSectionPath()
    {
        var document = TestDocuments.Parse(PdfFiles.Report(metadataTitle: null), "report.pdf");

        var chapter = document.Block("Annual Report");
        Assert.Equal(BlockKind.Heading, chapter.Kind);
        Assert.Equal(["Annual Report"], chapter.SectionPath);
        Assert.Equal(BlockKind.Heading, document.Block("Revenue").Kind);
        Assert.Equal(["Annual Report", "Revenue"], document.Block("Revenue grew").SectionPath);
        Assert.Equal(["Annual Report", "Costs"], document.Block("Headcount").SectionPath);
        Assert.Equal(BlockKind.Paragraph, document.Block("Headcount").Kind);
    }

    [Fact]
    public void Pdf_WrappedLinesOfOneParagraph_AreJoinedIntoOneBlock()
    {
        var document = TestDocuments.Parse(PdfFiles.Report(metadataTitle: null), "report.pdf");

        Assert.Equal("Revenue grew by twelve percent over the year, driven by the new subscription plans.", document.Block("Revenue grew").Text);
    }

    [Fact]
    public void Pdf_TwoColumns_AreReadColumnByColumnNotAcrossTheGutter()
    {
        var document = TestDocuments.Parse(PdfFiles.TwoColumns(), "news.pdf");

        var left = document.Block("Left story line 0");
        var right = document.Block("Right story line 0");
        Assert.Contains("Left story line 5", left.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Right", left.Text, StringComparison.Ordinal);
        Assert.Contains("Right story line 5", right.Text, StringComparison.Ordinal);
        Assert.Equal(["Two Column News"], right.SectionPath);
    }

    [Fact]
    public void Pdf_Title_ComesFromMetadataElseFirstHeading()
    {
        Assert.Equal("Annual Report 2025", TestDocuments.Parse(PdfFiles.Report("Annual Report 2025"), "r.pdf").Title);
        Assert.Equal("Annual Report", TestDocuments.Parse(PdfFiles.Report(metadataTitle: null), "r.pdf").Title);
    }

    [Fact]
    public void Pdf_ChineseText_IsExtractedIntactWithoutInsertedSpaces()
    {
        var document = TestDocuments.Parse(PdfFiles.Chinese(), "中文.pdf");

        Assert.Equal("这是一份中文测试文件，用来检查文字提取。", document.Block("测试文件").Text);
        Assert.Equal("检索时会找到最相关的段落，中文字符之间不应出现空格。", document.Block("最相关").Text);
        Assert.Equal(BlockKind.Heading, document.Block("知识库简介").Kind);
        Assert.Equal(["第二章 检索"], document.Block("最相关").SectionPath);
        Assert.Equal(2, document.Block("最相关").Page);
        Assert.Equal("知识库简介", document.Title);
    }

    [Fact]
    public void Pdf_PageWithoutTextLayer_FailsWhenOcrIsNotInstalled()
    {
        var failure = TestDocuments.Fails(PdfFiles.Scanned(OcrSample.Png), "scan.pdf", ocr: null);

        Assert.Equal("scanned PDF without a text layer: OCR (tesseract) is not installed", failure.Reason);
    }
}
