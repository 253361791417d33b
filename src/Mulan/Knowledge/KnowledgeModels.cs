namespace Mulan.Knowledge;

/// <param name="EmbeddingModel">the model whose vectors searches use; null means keyword retrieval only.</param>
/// <param name="PendingEmbeddingModel">a model being filled in by the background re-embedding; it replaces
/// <paramref name="EmbeddingModel"/> once every chunk has a vector from it.</param>
/// <param name="RerankModel">a chat model that reorders the best candidates of every search; null for none.</param>
public sealed record KnowledgeBase(string Id, string WorkspaceId, string Name, string? Description, DateTimeOffset CreatedAt,
    string? EmbeddingModel = null, string? PendingEmbeddingModel = null, string? RerankModel = null)
{
    /// <summary>An OCR route for images and scanned PDFs (null: the built-in Tesseract reads them, as before).</summary>
    public string? OcrModel { get; init; }

    /// <summary>A transcription route for audio files (null: audio is refused).</summary>
    public string? TranscriptionModel { get; init; }

    /// <summary>Every model a newly ingested chunk needs a vector from.</summary>
    public IReadOnlyList<string> VectorModels =>
        [.. new[] { EmbeddingModel, PendingEmbeddingModel }.OfType<string>().Distinct(StringComparer.Ordinal)];
}

/// <summary>A chunk still waiting for a vector from a knowledge base's pending embedding model.</summary>
public sealed record ChunkText(long Id, string Text, string? Section);

public enum DocumentStatus { Queued, Processing, Ready, Failed }

/// <param name="Origin">what identifies the document's source in its knowledge base: the file name, or the URL it was
/// fetched from. Uploading the same origin again replaces the document. Null means <paramref name="Source"/>.</param>
/// <param name="Replaces">the ready document this one replaces once it is ready itself (null for a new source).</param>
/// <param name="Renamed">the title was given by hand and is kept over the parsed one.</param>
public sealed record KnowledgeDocument(
    string Id, string KnowledgeBaseId, string Title, string Source, string? MediaType, long Size, string Sha256,
    DocumentStatus Status, string? Error, int ChunkCount, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    string? Origin = null, string? Replaces = null, bool Renamed = false)
{
    public string OriginKey => Origin ?? Source;
}

/// <summary>What queueing a document did.</summary>
public enum QueueResult
{
    /// <summary>Queued, as a new document or as the next version of one (<see cref="QueuedVersion.Replaces"/>).</summary>
    Queued,
    /// <summary>The same content as the current version of that source: nothing was queued.</summary>
    Unchanged,
    /// <summary>The knowledge base was deleted meanwhile.</summary>
    KnowledgeBaseGone,
}

/// <param name="Document">the queued document, or for <see cref="QueueResult.Unchanged"/> the existing one.</param>
/// <param name="Replaces">the ready version the queued one will replace.</param>
/// <param name="Superseded">earlier versions of the source that were never ready (queued or failed), deleted now.</param>
public sealed record QueuedVersion(QueueResult Result, KnowledgeDocument? Document, string? Replaces, IReadOnlyList<string> Superseded);

/// <param name="Status">only documents with this status; null for all.</param>
/// <param name="Origin">only documents of this source (file name or URL); null for all.</param>
/// <param name="Page">1-based.</param>
public sealed record DocumentQuery(DocumentStatus? Status, string? Origin, int Page, int PageSize);

public sealed record DocumentPage(IReadOnlyList<KnowledgeDocument> Documents, int Total);

/// <summary>The document (or its knowledge base) was deleted while it was being ingested.</summary>
public sealed class DocumentGoneException(string documentId) : Exception($"Document {documentId} no longer exists.")
{
    public string DocumentId { get; } = documentId;
}

/// <summary>A retrievable piece of a document. <see cref="Section"/> is the heading path joined with " › ".</summary>
public sealed record StoredChunk(long Id, string KnowledgeBaseId, string DocumentId, int Ordinal, string Text, string? Section, int? Page);

public static class DocumentStatusNames
{
    public static string Of(DocumentStatus s) => s switch
    {
        DocumentStatus.Queued => "queued",
        DocumentStatus.Processing => "processing",
        DocumentStatus.Ready => "ready",
        _ => "failed",
    };

    public static DocumentStatus Parse(string s) => s switch
    {
        "queued" => DocumentStatus.Queued,
        "processing" => DocumentStatus.Processing,
        "ready" => DocumentStatus.Ready,
        _ => DocumentStatus.Failed,
    };
}
