namespace Mulan.Knowledge;

/// <summary>Storage seam for knowledge bases, documents and chunks.</summary>
public interface IKnowledgeStore
{
    Task<bool> TryCreateKnowledgeBaseAsync(KnowledgeBase kb, CancellationToken ct);
    Task<KnowledgeBase?> FindKnowledgeBaseAsync(string idOrName, string? workspaceId, CancellationToken ct);
    Task<IReadOnlyList<KnowledgeBase>> ListKnowledgeBasesAsync(string? workspaceId, CancellationToken ct);

    Task AddDocumentAsync(KnowledgeDocument document, CancellationToken ct);
    Task<KnowledgeDocument?> GetDocumentAsync(string knowledgeBaseId, string documentId, CancellationToken ct);
    Task<IReadOnlyList<KnowledgeDocument>> ListDocumentsAsync(string knowledgeBaseId, CancellationToken ct);

    /// <summary>Claims the oldest queued document for processing, or null when none is queued.</summary>
    Task<KnowledgeDocument?> ClaimNextAsync(DateTimeOffset now, CancellationToken ct);
    /// <summary>After a crash, documents left "processing" go back to the queue.</summary>
    Task<int> RequeueInterruptedAsync(CancellationToken ct);
    /// <summary>Replaces the document's chunks and marks it ready, in one transaction (re-running is idempotent).</summary>
    Task<IReadOnlyList<StoredChunk>> CompleteAsync(string documentId, string title, IReadOnlyList<(string Text, string? Section, int? Page)> chunks, DateTimeOffset now, CancellationToken ct);
    Task FailAsync(string documentId, string reason, DateTimeOffset now, CancellationToken ct);

    /// <summary>Every chunk of every ready document, to rebuild the in-memory indexes at start-up.</summary>
    Task<IReadOnlyList<StoredChunk>> LoadChunksAsync(CancellationToken ct);
}
