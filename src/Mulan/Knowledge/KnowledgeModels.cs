namespace Mulan.Knowledge;

/// <param name="EmbeddingModel">the model whose vectors searches use; null means keyword retrieval only.</param>
/// <param name="PendingEmbeddingModel">a model being filled in by the background re-embedding; it replaces
/// <paramref name="EmbeddingModel"/> once every chunk has a vector from it.</param>
/// <param name="RerankModel">a chat model that reorders the best candidates of every search; null for none.</param>
public sealed record KnowledgeBase(string Id, string WorkspaceId, string Name, string? Description, DateTimeOffset CreatedAt,
    string? EmbeddingModel = null, string? PendingEmbeddingModel = null, string? RerankModel = null)
{
    /// <summary>Every model a newly ingested chunk needs a vector from.</summary>
    public IReadOnlyList<string> VectorModels =>
        [.. new[] { EmbeddingModel, PendingEmbeddingModel }.OfType<string>().Distinct(StringComparer.Ordinal)];
}

/// <summary>A chunk still waiting for a vector from a knowledge base's pending embedding model.</summary>
public sealed record ChunkText(long Id, string Text, string? Section);

public enum DocumentStatus { Queued, Processing, Ready, Failed }

public sealed record KnowledgeDocument(
    string Id, string KnowledgeBaseId, string Title, string Source, string? MediaType, long Size, string Sha256,
    DocumentStatus Status, string? Error, int ChunkCount, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

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
