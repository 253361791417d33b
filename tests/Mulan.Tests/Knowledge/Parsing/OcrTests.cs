using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

/// <summary>Needs tesseract with chi_tra (and eng); skipped visibly without it, failed when MULAN_REQUIRE_OCR=1.</summary>
public sealed class OcrTests
{
    [OcrFact]
    public void Image_IsReadThroughOcr_ChineseAndEnglish()
    {
        var document = TestDocuments.Parse(OcrSample.Png, "scan.png", ocr: Ocr.Engine);

        Assert.Equal("image", document.Format);
        Assert.Equal("scan", document.Title);
        Assert.Contains("Mulan OCR sample 2025", document.AllText(), StringComparison.Ordinal);
        Assert.Contains("知識庫測試文件", document.AllText(), StringComparison.Ordinal);
    }

    [OcrFact]
    public void ScannedPdfPage_IsReadThroughOcrWithItsPageNumber()
    {
        var document = TestDocuments.Parse(PdfFiles.Scanned(OcrSample.Png), "scan.pdf", ocr: Ocr.Engine);

        var block = document.Block("知識庫測試文件");
        Assert.Equal(1, block.Page);
        Assert.Contains("Mulan OCR sample", document.AllText(), StringComparison.Ordinal);
    }

    [OcrFact]
    public void Detect_FindsTheChineseAndEnglishModels()
    {
        Assert.Contains("chi_tra", Ocr.Engine.Languages);
        Assert.Contains("eng", Ocr.Engine.Languages);
    }

    [OcrFact]
    public void UnreadableImage_FailsWithAnOcrReason()
    {
        // A PNG signature and a 10×10 header, then noise.
        byte[] broken = [.. OcrSample.Png[..16], 0, 0, 0, 10, 0, 0, 0, 10, .. HostileFiles.RandomBytes(512, seed: 9)];

        var failure = TestDocuments.Fails(broken, "broken.png", ocr: Ocr.Engine);

        Assert.Equal("OCR failed: tesseract could not read the image", failure.Reason);
    }
}
