using System.Text;
using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

/// <summary>quality.md §7: every hostile upload becomes a DocumentParseException with a clear reason, never a crash, hang or memory blow-up.</summary>
public sealed class HostileInputTests
{
    [Fact]
    public void TruncatedPdf_FailsAsTruncatedOrCorrupt()
    {
        var pdf = PdfFiles.Report("Report");

        var failure = TestDocuments.Fails(pdf[..(pdf.Length * 3 / 5)], "cut.pdf");

        Assert.Equal("truncated or corrupt PDF", failure.Reason);
    }

    [Fact]
    public void PdfWithGarbageBody_FailsAsTruncatedOrCorrupt()
    {
        byte[] pdf = [.. "%PDF-1.7\n"u8, .. HostileFiles.RandomBytes(20_000, seed: 7), .. "\n%%EOF\n"u8];

        Assert.Equal("truncated or corrupt PDF", TestDocuments.Fails(pdf, "junk.pdf").Reason);
    }

    [Fact]
    public void EncryptedPdf_NeedingAPassword_FailsAsEncrypted()
    {
        Assert.Equal("encrypted PDF", TestDocuments.Fails(EncryptedPdfSamples.UserPassword, "secret.pdf").Reason);
        Assert.Equal("encrypted PDF", TestDocuments.Fails(PdfFiles.Encrypted(), "hand-made.pdf").Reason);
    }

    [Fact]
    public void EncryptedPdf_WithOnlyAnOwnerPassword_IsReadLikeAnyOther()
    {
        var document = TestDocuments.Parse(EncryptedPdfSamples.OwnerPasswordOnly, "restricted.pdf");

        Assert.Equal("Readable without a password.", document.AllText());
    }

    [Fact]
    public void PdfFlateBomb_IsRefusedBeforeItIsInflated()
    {
        var failure = TestDocuments.Fails(PdfFiles.FlateBomb(inflatedMiB: 64), "bomb.pdf", new ParseLimits { MaxInflatedBytes = 16 * 1024 * 1024 });

        Assert.Equal("PDF streams expand past 16 MiB", failure.Reason);
    }

    [Fact]
    public void RandomBytesNamedDocx_FailsAsTruncatedOrCorrupt()
    {
        Assert.Equal("truncated or corrupt DOCX", TestDocuments.Fails(HostileFiles.RandomBytes(64 * 1024, seed: 42), "random.docx").Reason);
    }

    [Fact]
    public void TruncatedDocx_FailsAsTruncatedOrCorrupt()
    {
        var docx = OfficeFiles.Report("Report");

        Assert.Equal("truncated or corrupt DOCX", TestDocuments.Fails(docx[..(docx.Length / 2)], "cut.docx").Reason);
    }

    [Fact]
    public void ZipBombDisguisedAsDocx_OneGibibyteOfZeros_IsRefusedByRatio()
    {
        var bomb = HostileFiles.ZipBombDocx(inflatedMiB: 1024);

        var failure = TestDocuments.Fails(bomb, "bomb.docx");

        Assert.True(bomb.Length < 2 * 1024 * 1024, $"the bomb itself should be small, was {bomb.Length} bytes");
        Assert.Equal("archive entry expands more than 200:1 (decompression bomb)", failure.Reason);
    }

    [Fact]
    public void ZipBomb_PastTheInflatedCap_IsRefusedWhateverTheRatioLimit()
    {
        var limits = new ParseLimits { MaxInflatedBytes = 8 * 1024 * 1024, MaxCompressionRatio = 1_000_000 };

        var failure = TestDocuments.Fails(HostileFiles.ZipBombDocx(inflatedMiB: 32), "bomb.docx", limits);

        Assert.Equal("archive expands past 8 MiB", failure.Reason);
    }

    [Fact]
    public void ArchiveWithTooManyEntries_IsRefusedBeforeItIsRead()
    {
        var failure = TestDocuments.Fails(HostileFiles.ManyEntries(10_001), "many.docx");

        Assert.Equal("archive has more than 10,000 entries", failure.Reason);
    }

    [Fact]
    public void DeeplyNestedOfficeXml_IsRefusedBeforeTheRecursiveReaderSeesIt()
    {
        // 20,000 levels overflow the Open XML SDK's recursion on a 1 MB stack and end the process: it must never get there.
        var ratioOff = new ParseLimits { MaxCompressionRatio = 1_000_000 };

        var failure = TestDocuments.Fails(HostileFiles.DeeplyNestedDocx(20_000), "deep.docx", ratioOff);

        Assert.Equal("document structure is nested more than 1,000 levels deep", failure.Reason);
        Assert.Equal("deep", TestDocuments.Parse(HostileFiles.DeeplyNestedDocx(100), "ok.docx").AllText());
    }

    [Fact]
    public void BinaryDataNamedAsText_IsRefusedRatherThanDecodedIntoNoise()
    {
        Assert.Equal("binary data, not text", TestDocuments.Fails(HostileFiles.RandomBytes(8192, seed: 5), "data.txt").Reason);
        Assert.Equal("binary data, not text", TestDocuments.Fails(HostileFiles.RandomBytes(8192, seed: 6), "data.csv").Reason);
    }

    [Fact]
    public void PasswordProtectedOfficeFile_FailsAsEncrypted()
    {
        var failure = TestDocuments.Fails(HostileFiles.EncryptedOfficeFile(), "secret.docx");

        Assert.Equal("encrypted DOCX: remove the password and upload it again", failure.Reason);
    }

    [Fact]
    public void OversizedUpload_IsRefusedEarly_EvenFromAStreamThatCannotSeek()
    {
        var limits = new ParseLimits { MaxInputBytes = 1024 };
        var parsers = DocumentParsers.CreateDefault();

        var failure = Assert.Throws<DocumentParseException>(() =>
            parsers.Parse(new NonSeekableStream(new byte[4096]), "big.txt", null, limits, CancellationToken.None));

        Assert.Equal("file is larger than 1 KiB", failure.Reason);
    }

    [Fact]
    public void TextPastMaxTextChars_FailsWithTheCap()
    {
        var failure = TestDocuments.Fails(Encoding.UTF8.GetBytes(string.Join("\n\n", Enumerable.Repeat("paragraph of text", 50))), "long.txt", new ParseLimits { MaxTextChars = 100 });

        Assert.Equal("document text exceeds 100 characters", failure.Reason);
    }

    [Fact]
    public void TooManyPages_FailsWithTheCap()
    {
        var failure = TestDocuments.Fails(PdfFiles.Report("Report"), "report.pdf", new ParseLimits { MaxPages = 1 });

        Assert.Equal("PDF has more than 1 pages", failure.Reason);
    }

    [Fact]
    public void DeeplyNestedHtml_IsReadWithoutExhaustingTheStack()
    {
        var html = string.Concat(Enumerable.Repeat("<div><span>", 450)) + "deep text" + string.Concat(Enumerable.Repeat("</span></div>", 450));

        var document = TestDocuments.Parse(Encoding.UTF8.GetBytes(html), "deep.html");

        Assert.Equal("deep text", document.AllText());
    }

    [Fact]
    public void AbsurdlyNestedHtml_IsRefusedBeforeTheQuadraticTreeBuilderRuns()
    {
        var html = string.Concat(Enumerable.Repeat("<div>", 200_000)) + "text";

        var failure = TestDocuments.Fails(Encoding.UTF8.GetBytes(html), "deep.html");

        Assert.Equal("HTML is nested more than 1,000 levels deep", failure.Reason);
    }

    [Fact]
    public void DeeplyNestedMarkdown_IsReadWhenSaneAndRefusedWhenAbsurd()
    {
        var sane = new string('>', 50) + " deep quote\n\n" + string.Concat(Enumerable.Repeat("- ", 40)) + "deep list\n";
        var absurd = new string('>', 5_000) + " deep quote\n";

        Assert.Contains("deep list", TestDocuments.Parse(Encoding.UTF8.GetBytes(sane), "deep.md").AllText(), StringComparison.Ordinal);
        Assert.Equal("Markdown is nested too deeply to read", TestDocuments.Fails(Encoding.UTF8.GetBytes(absurd), "deep.md").Reason);
    }

    [Fact]
    public void CancelledToken_StopsParsing()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            DocumentParsers.CreateDefault().Parse(new MemoryStream(OfficeFiles.Workbook()), "a.xlsx", null, ParseLimits.Default, cancelled.Token));
    }

    [Fact]
    public void CancellationDuringParsing_IsHonouredInsideTheLoop()
    {
        // The token is cancelled once the upload has been read, so only the parser's own loop can notice it.
        using var cts = new CancellationTokenSource();
        var csv = Encoding.UTF8.GetBytes("a,b\n" + string.Concat(Enumerable.Repeat("1,2\n", 10_000)));

        Assert.ThrowsAny<OperationCanceledException>(() =>
            new CsvDocumentParser().Parse(new NonSeekableStream(csv, onEnd: cts.Cancel), "rows.csv", ParseLimits.Default, cts.Token));
    }

    [Fact]
    public void ImageWithoutOcr_FailsSayingTesseractIsMissing()
    {
        var failure = TestDocuments.Fails(OcrSample.Png, "scan.png", ocr: null);

        Assert.Equal("images need OCR: tesseract is not installed", failure.Reason);
    }

    [Fact]
    public void Reasons_NeverCarryPathsOrLibraryMessages()
    {
        var failures = new[]
        {
            TestDocuments.Fails(HostileFiles.RandomBytes(4096, seed: 1), "/srv/uploads/../../secret/x.docx"),
            TestDocuments.Fails(HostileFiles.RandomBytes(4096, seed: 2), "C:\\Users\\me\\x.pdf"),
            TestDocuments.Fails(HostileFiles.RandomBytes(4096, seed: 3), "/tmp/evil/x.xlsx"),
            TestDocuments.Fails(HostileFiles.RandomBytes(4096, seed: 4), "x.pptx"),
        };

        Assert.All(failures, f =>
        {
            Assert.Matches("^truncated or corrupt (DOCX|PDF|XLSX|PPTX)$", f.Reason);
            Assert.Equal(f.Reason, f.Message);
        });
    }

    private sealed class NonSeekableStream(byte[] data, Action? onEnd = null) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = Math.Min(count, data.Length - _position);
            Array.Copy(data, _position, buffer, offset, read);
            _position += read;
            if (read == 0)
            {
                onEnd?.Invoke();
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
