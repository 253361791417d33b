using Mulan.Knowledge.Ingestion;
using Mulan.Knowledge.Retrieval;

namespace Mulan.Knowledge.Lifecycle;

/// <param name="UsedBy">what still uses the knowledge base when it was not deleted (refused without force).</param>
/// <param name="Documents">documents deleted with it.</param>
public sealed record KnowledgeBaseDeletion(bool Deleted, IReadOnlyList<string> UsedBy, int Documents);

/// <summary>
/// Every change to documents and knowledge bases that is stored and then mirrored in the in-memory index: a document
/// becoming ready (or replacing its earlier version), renamed or deleted, a knowledge base deleted. They run one at a
/// time, each storing its change and then applying it to the index before the next starts, so storage and index
/// change in the same order. That is what keeps a deleted document from coming back: an ingestion worker that
/// finishes a document just as it is deleted either stores and indexes it before the deletion (which then removes it
/// from both) or finds it gone and drops it.
/// </summary>
public sealed partial class KnowledgeLifecycle(IKnowledgeStore store, KnowledgeIndex index, DocumentFiles files, KnowledgeBaseReferences references,
    TimeProvider time, ILogger<KnowledgeLifecycle> logger)
{
    private readonly SemaphoreSlim _commits = new(1, 1);

    /// <summary>Queues an uploaded document (its file already saved under its id) as the next version of its source.</summary>
    public async Task<QueuedVersion> QueueAsync(KnowledgeDocument document, CancellationToken ct)
    {
        QueuedVersion outcome;
        try
        {
            outcome = await CommitAsync(() => store.QueueDocumentAsync(document, ct), ct);
        }
        catch
        {
            DeleteFile(document.Id); // nothing refers to it
            throw;
        }
        if (outcome.Result != QueueResult.Queued)
        {
            DeleteFile(document.Id); // the upload is not kept: same content as what is there, or nowhere to keep it
        }
        foreach (var id in outcome.Superseded)
        {
            index.RemoveDocument(id);
            DeleteFile(id);
        }
        return outcome;
    }

    /// <summary>Marks a document ready with its chunks, replacing its earlier version, in storage and then in the index.</summary>
    /// <returns>the stored chunks; null when the knowledge base's embedding model changed meanwhile (nothing stored).</returns>
    /// <exception cref="DocumentGoneException">the document was deleted meanwhile: nothing is stored or indexed.</exception>
    internal Task<IReadOnlyList<StoredChunk>?> CompleteAsync(KnowledgeDocument document, string title, IReadOnlyList<(string Text, string? Section, int? Page)> rows,
        IReadOnlyDictionary<string, float[][]> vectors, IReadOnlyCollection<string> vectorModels, CancellationToken ct) =>
        CommitAsync<IReadOnlyList<StoredChunk>?>(async () =>
        {
            var stored = await store.CompleteAsync(document.Id, title, rows, vectors, time.GetUtcNow(), ct);
            if (stored is null)
            {
                return null;
            }
            // A title given by hand meanwhile is kept by the store; show the one it kept.
            var shown = (await store.GetDocumentAsync(document.KnowledgeBaseId, document.Id, ct))?.Title ?? title;
            index.ReplaceDocument(document.Replaces, shown, stored, vectors.Where(v => vectorModels.Contains(v.Key)).ToDictionary());
            if (document.Replaces is { } replaced)
            {
                DeleteFile(replaced);
            }
            return stored;
        }, ct);

    public Task<KnowledgeDocument?> RenameDocumentAsync(KnowledgeBase kb, string documentId, string title, CancellationToken ct) =>
        CommitAsync(async () =>
        {
            var renamed = await store.RenameDocumentAsync(kb.Id, documentId, title, time.GetUtcNow(), ct);
            if (renamed is not null)
            {
                index.Retitle(documentId, title);
            }
            return renamed;
        }, ct);

    /// <summary>Deletes a document whatever its status, with its chunks, vectors, index entries, file, and any version queued to replace it.</summary>
    /// <returns>the deleted documents' ids; null when the knowledge base has no such document.</returns>
    public async Task<IReadOnlyList<string>?> DeleteDocumentAsync(KnowledgeBase kb, string documentId, CancellationToken ct)
    {
        var deleted = await CommitAsync(async () =>
        {
            var ids = await store.DeleteDocumentAsync(kb.Id, documentId, ct);
            foreach (var id in ids ?? [])
            {
                index.RemoveDocument(id);
            }
            return ids;
        }, ct);
        foreach (var id in deleted ?? [])
        {
            DeleteFile(id);
        }
        return deleted;
    }

    /// <summary>
    /// Deletes a knowledge base with everything of it: documents (whatever their status), chunks, vectors, index
    /// entries and stored files. Without <paramref name="force"/>, refused (changing nothing) while something
    /// registered in <see cref="KnowledgeBaseReferences"/> still uses it.
    /// </summary>
    public async Task<KnowledgeBaseDeletion> DeleteKnowledgeBaseAsync(KnowledgeBase kb, bool force, CancellationToken ct)
    {
        if (!force && await references.UsersOfAsync(kb.Id, ct) is { Count: > 0 } users)
        {
            return new KnowledgeBaseDeletion(false, users, 0);
        }
        var documents = await CommitAsync(async () =>
        {
            var ids = await store.DeleteKnowledgeBaseAsync(kb.Id, ct);
            index.RemoveKnowledgeBase(kb.Id);
            return ids;
        }, ct);
        foreach (var id in documents ?? [])
        {
            DeleteFile(id);
        }
        if (documents is not null)
        {
            LogKnowledgeBaseDeleted(logger, kb.Id, documents.Count);
        }
        return new KnowledgeBaseDeletion(documents is not null, [], documents?.Count ?? 0);
    }

    /// <summary>
    /// Deletes every knowledge base of a workspace, whatever uses them, as deleting the workspace itself needs (call
    /// it before the workspace's row goes: knowledge bases refer to it).
    /// </summary>
    /// <returns>the ids of the knowledge bases deleted.</returns>
    public async Task<IReadOnlyList<string>> DeleteWorkspaceAsync(string workspaceId, CancellationToken ct)
    {
        var deleted = new List<string>();
        foreach (var kb in await store.ListKnowledgeBasesAsync(workspaceId, ct))
        {
            if ((await DeleteKnowledgeBaseAsync(kb, force: true, ct)).Deleted)
            {
                deleted.Add(kb.Id);
            }
        }
        return deleted;
    }

    private async Task<T> CommitAsync<T>(Func<Task<T>> change, CancellationToken ct)
    {
        await _commits.WaitAsync(ct);
        try
        {
            return await change();
        }
        finally
        {
            _commits.Release();
        }
    }

    private void DeleteFile(string documentId)
    {
        try
        {
            files.Delete(documentId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing refers to the file any more; it only takes space until removed by hand.
            LogFileNotDeleted(logger, documentId, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Knowledge base {KnowledgeBaseId} deleted with {Documents} documents")]
    private static partial void LogKnowledgeBaseDeleted(ILogger logger, string knowledgeBaseId, int documents);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The file of deleted document {DocumentId} could not be removed: {Reason}")]
    private static partial void LogFileNotDeleted(ILogger logger, string documentId, string reason);
}
