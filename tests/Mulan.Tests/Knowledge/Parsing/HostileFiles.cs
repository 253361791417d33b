using System.IO.Compression;
using System.Text;

namespace Mulan.Tests.Knowledge.Parsing;

/// <summary>Hostile uploads, built streaming so the tests stay small and fast.</summary>
internal static class HostileFiles
{
    private const string DocxContentTypes =
        """<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>""";

    /// <summary>A "DOCX" whose document part is <paramref name="inflatedMiB"/> MiB of zeros (1 GiB deflates to about 1 MB).</summary>
    public static byte[] ZipBombDocx(int inflatedMiB)
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, "[Content_Types].xml", DocxContentTypes);

            using var document = zip.CreateEntry("word/document.xml", CompressionLevel.Optimal).Open();
            var zeros = new byte[1024 * 1024];
            for (var i = 0; i < inflatedMiB; i++)
            {
                document.Write(zeros);
            }
        }

        return stream.ToArray();
    }

    private static void Write(ZipArchive zip, string name, string text)
    {
        using var writer = new StreamWriter(zip.CreateEntry(name).Open(), new UTF8Encoding(false));
        writer.Write(text);
    }

    /// <summary>A zip with <paramref name="count"/> tiny entries.</summary>
    public static byte[] ManyEntries(int count)
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            for (var i = 0; i < count; i++)
            {
                zip.CreateEntry($"word/media/part{i}.xml", CompressionLevel.NoCompression);
            }
        }

        return stream.ToArray();
    }

    /// <summary>A DOCX whose body nests <paramref name="levels"/> content controls: a few KB that would overflow a recursive reader's stack.</summary>
    public static byte[] DeeplyNestedDocx(int levels)
    {
        var body = string.Concat(Enumerable.Repeat("<w:sdt><w:sdtContent>", levels)) + "<w:p><w:r><w:t>deep</w:t></w:r></w:p>" + string.Concat(Enumerable.Repeat("</w:sdtContent></w:sdt>", levels));
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, "[Content_Types].xml", DocxContentTypes);
            Write(zip, "_rels/.rels", """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>""");
            Write(zip, "word/document.xml", $"""<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>""");
        }

        return stream.ToArray();
    }

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The start of an OLE compound file holding an EncryptionInfo stream, which is what Office writes for a password-protected DOCX.</summary>
    public static byte[] EncryptedOfficeFile()
    {
        var file = new byte[4096];
        byte[] magic = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        magic.CopyTo(file, 0);
        Encoding.Unicode.GetBytes("EncryptionInfo").CopyTo(file, 1024);
        Encoding.Unicode.GetBytes("EncryptedPackage").CopyTo(file, 1152);
        return file;
    }
}
