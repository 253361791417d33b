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
    Task<DocumentPage> ListDocumentsAsync(string knowledgeBaseId, DocumentQuery query, CancellationToken ct);

    /// <summary>
    /// Queues a document as the next version of its source (<see cref="KnowledgeDocument.OriginKey"/>), in one
    /// transaction: the same content as a pending version or the ready one is <see cref="QueueResult.Unchanged"/>;
    /// otherwise it is queued to replace the ready version, and versions that never became ready are deleted.
    /// </summary>
    Task<QueuedVersion> QueueDocumentAsync(KnowledgeDocument document, CancellationToken ct);
    /// <summary>Sets a title by hand (kept over parsed titles, also by later versions); null when there is no such document.</summary>
    Task<KnowledgeDocument?> RenameDocumentAsync(string knowledgeBaseId, string documentId, string title, DateTimeOffset now, CancellationToken ct);
    /// <summary>Deletes a document, its chunks and vectors, and any version queued to replace it; returns the deleted
    /// documents' ids, or null when there is no such document.</summary>
    Task<IReadOnlyList<string>?> DeleteDocumentAsync(string knowledgeBaseId, string documentId, CancellationToken ct);
    /// <summary>Deletes a knowledge base with all its documents, chunks and vectors in one transaction; returns the
    /// deleted documents' ids, or null when there is no such knowledge base.</summary>
    Task<IReadOnlyList<string>?> DeleteKnowledgeBaseAsync(string knowledgeBaseId, CancellationToken ct);
    /// <summary>Renames a knowledge base and sets its description; false (changing nothing) when the name is taken in its workspace.</summary>
    Task<bool> TryUpdateKnowledgeBaseAsync(string knowledgeBaseId, string name, string? description, CancellationToken ct);

    /// <summary>Claims the oldest queued document for processing, or null when none is queued.</summary>
    Task<KnowledgeDocument?> ClaimNextAsync(DateTimeOffset now, CancellationToken ct);
    /// <summary>Puts one claimed document back in the queue (to be tried again).</summary>
    Task RequeueAsync(string documentId, CancellationToken ct);
    /// <summary>After a crash, documents left "processing" go back to the queue.</summary>
    Task<int> RequeueInterruptedAsync(CancellationToken ct);
    /// <summary>The ingestion queue's depth: documents waiting and being processed (by any node).</summary>
    Task<(int Queued, int Processing)> CountQueueAsync(CancellationToken ct);
    /// <summary>
    /// Replaces the document's chunks (and their vectors, one list per model, in chunk order) and marks it ready, in
    /// one transaction that also deletes the version it replaces (<see cref="KnowledgeDocument.Replaces"/>); re-running is
    /// idempotent. Throws <see cref="DocumentGoneException"/> when the document was deleted meanwhile. Returns null, changing nothing, when <paramref name="vectors"/> lacks
    /// the knowledge base's active embedding model (it changed meanwhile). Vectors of the pending model are optional.
    /// </summary>
    Task<IReadOnlyList<StoredChunk>?> CompleteAsync(string documentId, string title, IReadOnlyList<(string Text, string? Section, int? Page)> chunks,
        IReadOnlyDictionary<string, float[][]> vectors, DateTimeOffset now, CancellationToken ct);
    Task FailAsync(string documentId, string reason, DateTimeOffset now, CancellationToken ct);

    /// <summary>Every chunk of every ready document, to rebuild the in-memory indexes at start-up.</summary>
    Task<IReadOnlyList<StoredChunk>> LoadChunksAsync(CancellationToken ct);

    /// <summary>Sets the active and pending embedding models of a knowledge base. Activating a model deletes the
    /// vectors of every other model of that knowledge base.</summary>
    Task SetEmbeddingModelsAsync(string knowledgeBaseId, string? active, string? pending, CancellationToken ct);
    Task SetRerankModelAsync(string knowledgeBaseId, string? model, CancellationToken ct);

    /// <summary>The OCR and transcription routes ingestion uses (null: none).</summary>
    Task SetMediaModelsAsync(string knowledgeBaseId, string? ocrModel, string? transcriptionModel, CancellationToken ct);
    /// <summary>Makes the pending model active, in one transaction, only if every chunk of a ready document has a
    /// vector from it; returns false (changing nothing) otherwise.</summary>
    Task<bool> TryActivatePendingAsync(string knowledgeBaseId, CancellationToken ct);
    /// <summary>Chunks of ready documents with no vector from <paramref name="model"/>, in id order after <paramref name="afterId"/>.</summary>
    Task<IReadOnlyList<ChunkText>> ChunksWithoutVectorAsync(string knowledgeBaseId, string model, long afterId, int limit, CancellationToken ct);
    /// <summary>Chunks of ready documents, and how many of them have a vector from <paramref name="model"/>.</summary>
    Task<(int Chunks, int Embedded)> VectorProgressAsync(string knowledgeBaseId, string model, CancellationToken ct);
    /// <summary>Stores vectors for chunks that still exist (a chunk deleted meanwhile is skipped).</summary>
    Task SaveVectorsAsync(string model, IReadOnlyList<(long ChunkId, float[] Vector)> vectors, CancellationToken ct);
    /// <summary>Every stored vector of a knowledge base for one model, to rebuild the vector index at start-up.</summary>
    IAsyncEnumerable<(long ChunkId, float[] Vector)> LoadVectorsAsync(string knowledgeBaseId, string model, CancellationToken ct);
}
