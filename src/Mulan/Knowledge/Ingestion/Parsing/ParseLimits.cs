namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Caps that keep one hostile upload from exhausting memory or CPU while it is parsed. Every cap
/// that is hit fails the document with a <see cref="DocumentParseException"/> naming the cap; nothing
/// is silently truncated.
/// </summary>
public sealed class ParseLimits
{
    private const long MiB = 1024 * 1024;

    /// <summary>The defaults below.</summary>
    public static ParseLimits Default { get; } = new();

    /// <summary>Largest accepted upload, in bytes. Default 100 MiB.</summary>
    public long MaxInputBytes { get; init; } = 100 * MiB;

    /// <summary>
    /// Most bytes that the compressed content of one document may expand to, in bytes: all entries of a
    /// DOCX/XLSX/PPTX package together, or all compressed streams of a PDF together. Counted while
    /// actually inflating, never taken from declared sizes. Default 512 MiB.
    /// </summary>
    public long MaxInflatedBytes { get; init; } = 512 * MiB;

    /// <summary>Most entries (parts) in a DOCX/XLSX/PPTX package. Default 10,000.</summary>
    public int MaxArchiveEntries { get; init; } = 10_000;

    /// <summary>
    /// Highest inflated-to-compressed size ratio, as a multiple (200 means 200:1), for one archive
    /// entry and for the archive as a whole. Only checked once the entry (or the archive) has inflated
    /// past 1 MiB, so small, very repetitive parts are not refused. Default 200.
    /// </summary>
    public int MaxCompressionRatio { get; init; } = 200;

    /// <summary>Most pages of a PDF or slides of a PPTX. Default 5,000.</summary>
    public int MaxPages { get; init; } = 5_000;

    /// <summary>Most characters (UTF-16 code units) of extracted text for the whole document. Default 50,000,000.</summary>
    public long MaxTextChars { get; init; } = 50_000_000;

    /// <summary>Most non-empty cells of a spreadsheet, or fields of a CSV/TSV file. Default 5,000,000.</summary>
    public long MaxCells { get; init; } = 5_000_000;

    /// <summary>Largest image handed to OCR, in pixels (width × height). Default 60,000,000 (60 megapixels).</summary>
    public long MaxImagePixels { get; init; } = 60_000_000;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxInputBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxInflatedBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxArchiveEntries);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxCompressionRatio);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxPages);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxTextChars);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxCells);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxImagePixels);
    }
}
