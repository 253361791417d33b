using System.IO.Compression;
using System.Text;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Mulan.Tests.Knowledge.Parsing;

/// <summary>PDFs made at test time: with PdfPig's builder where it can, by hand where it cannot (encryption, bombs).</summary>
internal static class PdfFiles
{
    /// <summary>
    /// Debian package fonts-arphic-gbsn00lp: a plain TrueType (not a collection, not CFF) Chinese font that
    /// PdfPig can embed. (The Big5 sibling fonts-arphic-bsmi00lp works too but takes seconds to subset.)
    /// </summary>
    public const string ChineseFont = "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf";

    /// <summary>Two pages: a 22 pt chapter heading and 16 pt section headings over 11 pt body text.</summary>
    public static byte[] Report(string? metadataTitle)
    {
        using var builder = new PdfDocumentBuilder();
        if (metadataTitle is not null)
        {
            builder.DocumentInformation.Title = metadataTitle;
        }

        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        var page1 = builder.AddPage(PageSize.A4);
        var y = 780.0;
        Line(page1, font, 22, "Annual Report", ref y);
        y -= 10;
        Line(page1, font, 16, "Revenue", ref y);
        Line(page1, font, 11, "Revenue grew by twelve percent over the year,", ref y);
        Line(page1, font, 11, "driven by the new subscription plans.", ref y);
        y -= 16;
        Line(page1, font, 11, "Most of the growth came from the second half.", ref y);

        var page2 = builder.AddPage(PageSize.A4);
        y = 780;
        Line(page2, font, 16, "Costs", ref y);
        Line(page2, font, 11, "Costs stayed flat because hosting prices fell.", ref y);
        Line(page2, font, 11, "Headcount rose by two engineers in the autumn.", ref y);
        return builder.Build();
    }

    /// <summary>Two pages of Chinese, each with a larger heading.</summary>
    public static byte[] Chinese()
    {
        using var builder = new PdfDocumentBuilder();
        var font = builder.AddTrueTypeFont(ReadFont(ChineseFont, "fonts-arphic-gbsn00lp"));
        var page1 = builder.AddPage(PageSize.A4);
        var y = 780.0;
        Line(page1, font, 20, "知识库简介", ref y);
        Line(page1, font, 11, "这是一份中文测试文件，用来检查文字提取。", ref y);
        var page2 = builder.AddPage(PageSize.A4);
        y = 780;
        Line(page2, font, 20, "第二章 检索", ref y);
        Line(page2, font, 11, "检索时会找到最相关的段落，中文字符之间不应出现空格。", ref y);
        return builder.Build();
    }

    /// <summary>A newspaper-style page: a heading over two columns of six lines each.</summary>
    public static byte[] TwoColumns()
    {
        using var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        var page = builder.AddPage(PageSize.A4);
        page.AddText("Two Column News", 18, new PdfPoint(50, 780), font);
        for (var i = 0; i < 6; i++)
        {
            page.AddText($"Left story line {i} continues here", 10, new PdfPoint(50, 740 - (i * 13)), font);
            page.AddText($"Right story line {i} goes on", 10, new PdfPoint(320, 740 - (i * 13)), font);
        }

        return builder.Build();
    }

    /// <summary>A page holding nothing but an image, as a scanner makes it.</summary>
    public static byte[] Scanned(byte[] png)
    {
        using var builder = new PdfDocumentBuilder();
        var page = builder.AddPage(PageSize.A4);
        page.AddPng(png, new PdfRectangle(40, 600, 40 + 560, 600 + 150));
        return builder.Build();
    }

    /// <summary>A one-page PDF whose trailer has an /Encrypt dictionary with a key nobody knows (no empty user password).</summary>
    public static byte[] Encrypted()
    {
        var key = Convert.ToHexString(Enumerable.Range(0, 32).Select(i => (byte)(i * 37 + 11)).ToArray());
        return Assemble(
            [
                "<< /Type /Catalog /Pages 2 0 R >>",
                "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
                "<< /Length 8 >>\nstream\n12345678\nendstream",
                $"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <{key}> /U <{key}> >>",
            ],
            "/Encrypt 5 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]");
    }

    /// <summary>A page whose content stream is <paramref name="inflatedMiB"/> MiB of zeros, stored in about 1 KB per MiB.</summary>
    public static byte[] FlateBomb(int inflatedMiB)
    {
        var stream = new MemoryStream();
        stream.Write([0x78, 0x9C]);
        var chunk = SyncFlushedZeros();
        for (var i = 0; i < inflatedMiB; i++)
        {
            stream.Write(chunk);
        }

        stream.Write([0x03, 0x00]); // final, empty fixed-Huffman block; the Adler-32 that should follow is never reached
        var data = stream.ToArray();
        return Assemble(
            [
                "<< /Type /Catalog /Pages 2 0 R >>",
                "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
                new StreamObject($"<< /Length {data.Length} /Filter /FlateDecode >>", data),
            ],
            "");
    }

    private static byte[] SyncFlushedZeros()
    {
        // A sync flush ends on a byte boundary without a final block, so copies of it concatenate into one valid stream.
        var compressed = new MemoryStream();
        using var deflate = new DeflateStream(compressed, CompressionLevel.Optimal, leaveOpen: true);
        deflate.Write(new byte[1024 * 1024]);
        deflate.Flush();
        return compressed.ToArray();
    }

    private static byte[] ReadFont(string path, string package) =>
        File.Exists(path)
            ? File.ReadAllBytes(path)
            : throw new InvalidOperationException($"CJK font {path} is missing: install the Debian package {package} (apt-get install -y {package}).");

    private static void Line(PdfPageBuilder page, PdfDocumentBuilder.AddedFont font, double size, string text, ref double y)
    {
        page.AddText(text, size, new PdfPoint(50, y), font);
        y -= size * 1.5;
    }

    private sealed record StreamObject(string Dictionary, byte[] Data);

    /// <summary>Numbers the objects from 1, writes a correct xref table and the trailer.</summary>
    private static byte[] Assemble(object[] objects, string trailerExtra)
    {
        var pdf = new MemoryStream();
        void Write(string s) => pdf.Write(Encoding.Latin1.GetBytes(s));
        Write("%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n");
        var offsets = new List<long>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(pdf.Position);
            Write($"{i + 1} 0 obj\n");
            if (objects[i] is StreamObject s)
            {
                Write(s.Dictionary + "\nstream\n");
                pdf.Write(s.Data);
                Write("\nendstream");
            }
            else
            {
                Write((string)objects[i]);
            }

            Write("\nendobj\n");
        }

        var xref = pdf.Position;
        Write($"xref\n0 {objects.Length + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets)
        {
            Write($"{offset:D10} 00000 n \n");
        }

        Write($"trailer\n<< /Size {objects.Length + 1} /Root 1 0 R {trailerExtra} >>\nstartxref\n{xref}\n%%EOF\n");
        return pdf.ToArray();
    }
}
