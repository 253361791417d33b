using Dapper;
using Mulan.Knowledge;

namespace Mulan.Storage;

public sealed class SqliteKnowledgeStore(SqliteDatabase db) : IKnowledgeStore
{
    private const string DocumentColumns = """
        id AS Id, kb_id AS KbId, title AS Title, source AS Source, media_type AS MediaType, size AS Size, sha256 AS Sha256,
        status AS Status, error AS Error, chunk_count AS ChunkCount, attempts AS Attempts, created_at AS CreatedAt, updated_at AS UpdatedAt
        """;

    public async Task<bool> TryCreateKnowledgeBaseAsync(KnowledgeBase kb, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(
            "INSERT INTO knowledge_bases (id, workspace_id, name, description, created_at) VALUES (@Id, @WorkspaceId, @Name, @Description, @At) ON CONFLICT DO NOTHING",
            new { kb.Id, kb.WorkspaceId, kb.Name, kb.Description, At = kb.CreatedAt.ToUnixTimeMilliseconds() }) == 1;
    }

    public async Task<KnowledgeBase?> FindKnowledgeBaseAsync(string idOrName, string? workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<KbRow>(
            """
            SELECT id AS Id, workspace_id AS WorkspaceId, name AS Name, description AS Description, created_at AS CreatedAt
            FROM knowledge_bases WHERE (id = @v OR name = @v) AND (@w IS NULL OR workspace_id = @w) ORDER BY id = @v DESC LIMIT 2
            """, new { v = idOrName, w = workspaceId });
        var list = rows.ToList();
        // A name shared by knowledge bases of several workspaces is ambiguous without a workspace.
        return list.Count == 1 || (list.Count > 1 && list[0].Id == idOrName) ? list[0].ToModel() : null;
    }

    public async Task<IReadOnlyList<KnowledgeBase>> ListKnowledgeBasesAsync(string? workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<KbRow>(
            """
            SELECT id AS Id, workspace_id AS WorkspaceId, name AS Name, description AS Description, created_at AS CreatedAt
            FROM knowledge_bases WHERE (@w IS NULL OR workspace_id = @w) ORDER BY created_at, id
            """, new { w = workspaceId });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task AddDocumentAsync(KnowledgeDocument d, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO documents (id, kb_id, title, source, media_type, size, sha256, status, error, chunk_count, attempts, created_at, updated_at)
            VALUES (@Id, @KnowledgeBaseId, @Title, @Source, @MediaType, @Size, @Sha256, @Status, NULL, 0, 0, @At, @At)
            """,
            new { d.Id, d.KnowledgeBaseId, d.Title, d.Source, d.MediaType, d.Size, d.Sha256, Status = DocumentStatusNames.Of(d.Status), At = d.CreatedAt.ToUnixTimeMilliseconds() });
    }

    public async Task<KnowledgeDocument?> GetDocumentAsync(string knowledgeBaseId, string documentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<DocRow>($"SELECT {DocumentColumns} FROM documents WHERE id = @documentId AND kb_id = @knowledgeBaseId",
            new { documentId, knowledgeBaseId });
        return row?.ToModel();
    }

    public async Task<IReadOnlyList<KnowledgeDocument>> ListDocumentsAsync(string knowledgeBaseId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<DocRow>($"SELECT {DocumentColumns} FROM documents WHERE kb_id = @knowledgeBaseId ORDER BY created_at, id", new { knowledgeBaseId });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<KnowledgeDocument?> ClaimNextAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        // One statement: two workers can never claim the same document.
        var row = await c.QuerySingleOrDefaultAsync<DocRow>(
            $"""
            UPDATE documents SET status = 'processing', attempts = attempts + 1, updated_at = @now
            WHERE id = (SELECT id FROM documents WHERE status = 'queued' ORDER BY created_at, id LIMIT 1)
            RETURNING {DocumentColumns}
            """, new { now = now.ToUnixTimeMilliseconds() });
        return row?.ToModel();
    }

    public async Task<int> RequeueInterruptedAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync("UPDATE documents SET status = 'queued' WHERE status = 'processing'");
    }

    public async Task<IReadOnlyList<StoredChunk>> CompleteAsync(string documentId, string title,
        IReadOnlyList<(string Text, string? Section, int? Page)> chunks, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var kbId = await c.ExecuteScalarAsync<string>("SELECT kb_id FROM documents WHERE id = @documentId", new { documentId }, tx)
            ?? throw new InvalidOperationException($"Document {documentId} no longer exists.");
        await c.ExecuteAsync("DELETE FROM chunks WHERE document_id = @documentId", new { documentId }, tx);
        var stored = new List<StoredChunk>(chunks.Count);
        for (var i = 0; i < chunks.Count; i++)
        {
            var (text, section, page) = chunks[i];
            var id = await c.ExecuteScalarAsync<long>(
                "INSERT INTO chunks (kb_id, document_id, ordinal, text, section, page) VALUES (@kbId, @documentId, @i, @text, @section, @page) RETURNING id",
                new { kbId, documentId, i, text, section, page }, tx);
            stored.Add(new StoredChunk(id, kbId, documentId, i, text, section, page));
        }
        await c.ExecuteAsync(
            "UPDATE documents SET status = 'ready', error = NULL, title = @title, chunk_count = @n, updated_at = @now WHERE id = @documentId",
            new { documentId, title, n = chunks.Count, now = now.ToUnixTimeMilliseconds() }, tx);
        await tx.CommitAsync(ct);
        return stored;
    }

    public async Task FailAsync(string documentId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync("UPDATE documents SET status = 'failed', error = @reason, updated_at = @now WHERE id = @documentId",
            new { documentId, reason, now = now.ToUnixTimeMilliseconds() });
    }

    public async Task<IReadOnlyList<StoredChunk>> LoadChunksAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<ChunkRow>(
            """
            SELECT c.id AS Id, c.kb_id AS KbId, c.document_id AS DocumentId, c.ordinal AS Ordinal, c.text AS Text, c.section AS Section, c.page AS Page
            FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.status = 'ready' ORDER BY c.id
            """);
        return [.. rows.Select(r => new StoredChunk(r.Id, r.KbId, r.DocumentId, (int)r.Ordinal, r.Text, r.Section, (int?)r.Page))];
    }

    private sealed record KbRow(string Id, string WorkspaceId, string Name, string? Description, long CreatedAt)
    {
        public KnowledgeBase ToModel() => new(Id, WorkspaceId, Name, Description, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt));
    }

    private sealed record ChunkRow(long Id, string KbId, string DocumentId, long Ordinal, string Text, string? Section, long? Page);

    private sealed class DocRow
    {
        public string Id { get; init; } = "";
        public string KbId { get; init; } = "";
        public string Title { get; init; } = "";
        public string Source { get; init; } = "";
        public string? MediaType { get; init; }
        public long Size { get; init; }
        public string Sha256 { get; init; } = "";
        public string Status { get; init; } = "";
        public string? Error { get; init; }
        public long ChunkCount { get; init; }
        public long Attempts { get; init; }
        public long CreatedAt { get; init; }
        public long UpdatedAt { get; init; }

        public KnowledgeDocument ToModel() => new(Id, KbId, Title, Source, MediaType, Size, Sha256, DocumentStatusNames.Parse(Status), Error,
            (int)ChunkCount, (int)Attempts, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt));
    }
}
