namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// A document that cannot be read; <see cref="Reason"/> is shown to users ("encrypted PDF",
/// "truncated or corrupt DOCX", "archive expands past 512 MiB", ...). Reasons are written by the
/// parsers themselves and never carry stack traces, library messages or file system paths; the
/// library failure, when there is one, stays in <see cref="Exception.InnerException"/> for logs.
/// </summary>
public sealed class DocumentParseException(string reason, Exception? inner = null) : Exception(reason, inner)
{
    /// <summary>A short, user-facing explanation of why the document could not be read.</summary>
    public string Reason { get; } = reason;
}
