using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>Tells formats apart by their content, which is harder to get wrong than a name a client chose.</summary>
internal static partial class FormatSniffer
{
    private const int ContentTypesCap = 1024 * 1024;

    /// <summary>"pdf", "docx", "xlsx", "pptx" or "image" when the bytes say so; null otherwise.</summary>
    public static string? Detect(ArraySegment<byte> data, ParseLimits limits)
    {
        ReadOnlySpan<byte> span = data;
        if (IsPdf(span))
        {
            return "pdf";
        }

        if (ImageHeader.IsImage(span))
        {
            return "image";
        }

        return span.StartsWith("PK\u0003\u0004"u8) ? OfficeKind(data, limits) : null;
    }

    /// <summary>PDF readers accept the header anywhere in the first kilobyte.</summary>
    public static bool IsPdf(ReadOnlySpan<byte> head) => head[..Math.Min(head.Length, 1024)].IndexOf("%PDF-"u8) >= 0;

    /// <summary>OLE compound file: legacy .doc/.xls/.ppt, or a password-protected Office document.</summary>
    public static bool IsCompoundFile(ReadOnlySpan<byte> head) => head.StartsWith((ReadOnlySpan<byte>)[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);

    /// <summary>Why an OLE compound file cannot be read; <paramref name="label"/> is "DOCX", "XLSX", "PPTX" or "Office document".</summary>
    public static DocumentParseException CompoundFileFailure(ReadOnlySpan<byte> data, string label) =>
        data.IndexOf(Encoding.Unicode.GetBytes("EncryptionInfo")) >= 0
            ? new($"encrypted {label}: remove the password and upload it again")
            : new("legacy binary Office format (.doc, .xls, .ppt) is not supported: save it as .docx, .xlsx or .pptx and upload it again");

    private static string? OfficeKind(ArraySegment<byte> data, ParseLimits limits)
    {
        if (ZipGuard.DeclaredEntryCount(data) is not { } count || count > limits.MaxArchiveEntries)
        {
            return null;
        }

        try
        {
            using var zip = new ZipArchive(InputBuffer.AsStream(data), ZipArchiveMode.Read);
            // The main part's content type names the kind; other types may merely mention embedded documents.
            if (zip.GetEntry("[Content_Types].xml") is { } types && MainPartType().Match(ReadCapped(types)) is { Success: true } main)
            {
                var family = main.Groups["family"].Value;
                return family is "wordprocessingml" or "word" ? "docx"
                    : family is "spreadsheetml" or "excel" ? "xlsx"
                    : "pptx";
            }

            return zip.GetEntry("word/document.xml") is not null ? "docx"
                : zip.GetEntry("xl/workbook.xml") is not null ? "xlsx"
                : zip.GetEntry("ppt/presentation.xml") is not null ? "pptx"
                : null;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or NotSupportedException)
        {
            // A broken zip is the chosen parser's to report, with the format named.
            return null;
        }
    }

    [GeneratedRegex(@"application/vnd\.(?:openxmlformats-officedocument\.|ms-)(?<family>wordprocessingml|spreadsheetml|presentationml|word|excel|powerpoint)\.[A-Za-z.]*main\+xml", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex MainPartType();

    private static string ReadCapped(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        var buffer = new byte[ContentTypesCap];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
        {
            total += read;
        }

        return Encoding.UTF8.GetString(buffer, 0, total);
    }
}
