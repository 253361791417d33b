namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>Turns one kind of uploaded file into structured text.</summary>
public interface IDocumentParser
{
    /// <summary>"pdf", "docx", "xlsx", "pptx", "html", "markdown", "text", "csv" or "image".</summary>
    string Format { get; }

    /// <summary>
    /// Whether this parser reads the file, judged by its extension (lower case, with the dot, or empty),
    /// its declared media type, or the first bytes of its content.
    /// </summary>
    bool Accepts(string extension, string? mediaType, ReadOnlySpan<byte> head);

    /// <summary>
    /// Parses the whole input. <paramref name="fileName"/> is only used for the title and the format;
    /// nothing is ever read from or written to the file system under that name.
    /// </summary>
    /// <exception cref="DocumentParseException">The document cannot be read; the reason is user-facing.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    ParsedDocument Parse(Stream input, string fileName, ParseLimits limits, CancellationToken ct);
}
