using System.Runtime.CompilerServices;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using Mulan.Knowledge;

namespace Mulan.Storage.Postgres;

/// <summary>The knowledge store on PostgreSQL; the same rows as <see cref="SqliteKnowledgeStore"/>, vectors as bytea. The queue is
/// claimed with FOR UPDATE SKIP LOCKED, so that workers on several nodes never take the same document.</summary>
public sealed partial class PostgresKnowledgeStore(PostgresDatabase db) : IKnowledgeStore
{
    private const string DocumentColumns = """
        id AS Id, kb_id AS KbId, title AS Title, source AS Source, media_type AS MediaType, size AS Size, sha256 AS Sha256,
        status AS Status, error AS Error, chunk_count AS ChunkCount, attempts AS Attempts, created_at AS CreatedAt, updated_at AS UpdatedAt,
        origin AS Origin, replaces AS Replaces, renamed AS Renamed
        """;

    private const string KbColumns = """
        id AS Id, workspace_id AS WorkspaceId, name AS Name, description AS Description, created_at AS CreatedAt,
        embedding_model AS EmbeddingModel, pending_embedding_model AS PendingEmbeddingModel, rerank_model AS RerankModel,
        ocr_model AS OcrModel, transcription_model AS TranscriptionModel
        """;

    public async Task<bool> TryCreateKnowledgeBaseAsync(KnowledgeBase kb, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(
            """
            INSERT INTO knowledge_bases (id, workspace_id, name, description, created_at, embedding_model, pending_embedding_model, rerank_model, ocr_model, transcription_model)
            VALUES (@Id, @WorkspaceId, @Name, @Description, @At, @EmbeddingModel, @PendingEmbeddingModel, @RerankModel, @OcrModel, @TranscriptionModel) ON CONFLICT DO NOTHING
            """,
            new { kb.Id, kb.WorkspaceId, kb.Name, kb.Description, At = kb.CreatedAt.ToUnixTimeMilliseconds(), kb.EmbeddingModel, kb.PendingEmbeddingModel, kb.RerankModel, kb.OcrModel, kb.TranscriptionModel }) == 1;
    }

    public async Task<KnowledgeBase?> FindKnowledgeBaseAsync(string idOrName, string? workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<KbRow>(
            $"""
            SELECT {KbColumns}
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
            $"""
            SELECT {KbColumns}
            FROM knowledge_bases WHERE (@w IS NULL OR workspace_id = @w) ORDER BY created_at, id
            """, new { w = workspaceId });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task AddDocumentAsync(KnowledgeDocument d, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO documents (id, kb_id, title, source, media_type, size, sha256, status, error, chunk_count, attempts, created_at, updated_at, origin, replaces, renamed)
            VALUES (@Id, @KnowledgeBaseId, @Title, @Source, @MediaType, @Size, @Sha256, @Status, NULL, 0, 0, @At, @At, @Origin, @Replaces, @Renamed)
            """,
            InsertParameters(d));
    }

    private static object InsertParameters(KnowledgeDocument d) => new
    {
        d.Id, d.KnowledgeBaseId, d.Title, d.Source, d.MediaType, d.Size, d.Sha256, Status = DocumentStatusNames.Of(d.Status),
        At = d.CreatedAt.ToUnixTimeMilliseconds(), Origin = d.OriginKey, d.Replaces, Renamed = d.Renamed ? 1 : 0,
    };

    public async Task<QueuedVersion> QueueDocumentAsync(KnowledgeDocument d, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        // One write transaction: two uploads of the same source at once are ordered, each deciding on what the other left.
        await using var tx = await c.BeginTransactionAsync(ct);
        if (await c.ExecuteScalarAsync<long>("SELECT count(*) FROM knowledge_bases WHERE id = @KnowledgeBaseId", new { d.KnowledgeBaseId }, tx) == 0)
        {
            return new QueuedVersion(QueueResult.KnowledgeBaseGone, null, null, []);
        }
        var versions = (await c.QueryAsync<DocRow>(
            $"SELECT {DocumentColumns} FROM documents WHERE kb_id = @KnowledgeBaseId AND origin = @Origin ORDER BY created_at DESC, id DESC",
            new { d.KnowledgeBaseId, Origin = d.OriginKey }, tx)).Select(r => r.ToModel()).ToList();
        var current = versions.FirstOrDefault(v => v.Status == DocumentStatus.Ready);
        var pending = versions.Where(v => v.Status is DocumentStatus.Queued or DocumentStatus.Processing).ToList();
        if (pending.FirstOrDefault(p => p.Sha256 == d.Sha256) is { } samePending)
        {
            await tx.CommitAsync(ct);
            return new QueuedVersion(QueueResult.Unchanged, samePending, samePending.Replaces, []);
        }
        // Versions that never became ready are superseded by this upload, whatever it turns out to be.
        var superseded = versions.Where(v => v.Status != DocumentStatus.Ready).Select(v => v.Id).ToList();
        await DeleteDocumentRowsAsync(c, tx, superseded, ct);
        if (current is not null && current.Sha256 == d.Sha256)
        {
            await tx.CommitAsync(ct);
            return new QueuedVersion(QueueResult.Unchanged, current, null, superseded);
        }
        // A title given by hand is the source's, not the version's: the next version keeps it.
        var queued = d with
        {
            Replaces = current?.Id,
            Title = current is { Renamed: true } ? current.Title : d.Title,
            Renamed = current is { Renamed: true },
        };
        await c.ExecuteAsync(
            """
            INSERT INTO documents (id, kb_id, title, source, media_type, size, sha256, status, error, chunk_count, attempts, created_at, updated_at, origin, replaces, renamed)
            VALUES (@Id, @KnowledgeBaseId, @Title, @Source, @MediaType, @Size, @Sha256, @Status, NULL, 0, 0, @At, @At, @Origin, @Replaces, @Renamed)
            """, InsertParameters(queued), tx);
        await tx.CommitAsync(ct);
        return new QueuedVersion(QueueResult.Queued, queued, current?.Id, superseded);
    }

    public async Task<KnowledgeDocument?> RenameDocumentAsync(string knowledgeBaseId, string documentId, string title, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<DocRow>(
            $"UPDATE documents SET title = @title, renamed = 1, updated_at = @now WHERE id = @documentId AND kb_id = @knowledgeBaseId RETURNING {DocumentColumns}",
            new { knowledgeBaseId, documentId, title, now = now.ToUnixTimeMilliseconds() });
        if (row is not null)
        {
            await ChangedAsync(c, null, KnowledgeChange.Document, knowledgeBaseId, documentId);
        }
        return row?.ToModel();
    }

    public async Task<IReadOnlyList<string>?> DeleteDocumentAsync(string knowledgeBaseId, string documentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (await c.ExecuteScalarAsync<long>("SELECT count(*) FROM documents WHERE id = @documentId AND kb_id = @knowledgeBaseId", new { knowledgeBaseId, documentId }, tx) == 0)
        {
            return null;
        }
        // A version waiting to replace this document goes too: otherwise the document would come back when it is ready.
        var ids = (await c.QueryAsync<string>("SELECT id FROM documents WHERE kb_id = @knowledgeBaseId AND replaces = @documentId",
            new { knowledgeBaseId, documentId }, tx)).Prepend(documentId).ToList();
        await DeleteDocumentRowsAsync(c, tx, ids, ct);
        await tx.CommitAsync(ct);
        return ids;
    }

    public async Task<IReadOnlyList<string>?> DeleteKnowledgeBaseAsync(string knowledgeBaseId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (await c.ExecuteScalarAsync<long>("SELECT count(*) FROM knowledge_bases WHERE id = @knowledgeBaseId", new { knowledgeBaseId }, tx) == 0)
        {
            return null;
        }
        var ids = (await c.QueryAsync<string>("SELECT id FROM documents WHERE kb_id = @knowledgeBaseId", new { knowledgeBaseId }, tx)).ToList();
        await c.ExecuteAsync(
            """
            DELETE FROM chunk_vectors WHERE chunk_id IN (SELECT id FROM chunks WHERE kb_id = @knowledgeBaseId);
            DELETE FROM chunks WHERE kb_id = @knowledgeBaseId;
            DELETE FROM documents WHERE kb_id = @knowledgeBaseId;
            DELETE FROM knowledge_bases WHERE id = @knowledgeBaseId;
            """, new { knowledgeBaseId }, tx);
        await ChangedAsync(c, tx, KnowledgeChange.KnowledgeBase, knowledgeBaseId, null);
        await tx.CommitAsync(ct);
        return ids;
    }

    public async Task<bool> TryUpdateKnowledgeBaseAsync(string knowledgeBaseId, string name, string? description, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        try
        {
            return await c.ExecuteAsync("UPDATE knowledge_bases SET name = @name, description = @description WHERE id = @knowledgeBaseId",
                new { knowledgeBaseId, name, description }) == 1;
        }
        catch (PostgresException e) when (PostgresDatabase.IsUniqueViolation(e))
        {
            // A name taken in the workspace changes nothing and reports no row.
            return false;
        }
    }

    private static async Task DeleteDocumentRowsAsync(NpgsqlConnection c, System.Data.Common.DbTransaction tx, IReadOnlyList<string> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return;
        }
        // Vectors go with their chunks (ON DELETE CASCADE).
        await c.ExecuteAsync(new CommandDefinition("DELETE FROM chunks WHERE document_id = ANY(@ids)", new { ids = ids.ToArray() }, tx, cancellationToken: ct));
        foreach (var id in ids)
        {
            await ChangedAsync(c, tx, KnowledgeChange.Document, null, id);
        }
        await c.ExecuteAsync(new CommandDefinition("DELETE FROM documents WHERE id = ANY(@ids)", new { ids = ids.ToArray() }, tx, cancellationToken: ct));
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

    public async Task<DocumentPage> ListDocumentsAsync(string knowledgeBaseId, DocumentQuery query, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        const string Where = "kb_id = @knowledgeBaseId AND (@status IS NULL OR status = @status) AND (@origin IS NULL OR origin = @origin)";
        var parameters = new
        {
            knowledgeBaseId,
            status = query.Status is { } st ? DocumentStatusNames.Of(st) : null,
            origin = query.Origin,
            limit = query.PageSize,
            offset = (long)(query.Page - 1) * query.PageSize,
        };
        var total = await c.ExecuteScalarAsync<long>($"SELECT count(*) FROM documents WHERE {Where}", parameters);
        var rows = await c.QueryAsync<DocRow>($"SELECT {DocumentColumns} FROM documents WHERE {Where} ORDER BY created_at, id LIMIT @limit OFFSET @offset", parameters);
        return new DocumentPage([.. rows.Select(r => r.ToModel())], (int)total);
    }

    public async Task<KnowledgeDocument?> ClaimNextAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        // One statement: two workers can never claim the same document.
        var row = await c.QuerySingleOrDefaultAsync<DocRow>(
            $"""
            UPDATE documents SET status = 'processing', attempts = attempts + 1, updated_at = @now
            WHERE id = (SELECT id FROM documents WHERE status = 'queued' ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING {DocumentColumns}
            """, new { now = now.ToUnixTimeMilliseconds() });
        return row?.ToModel();
    }

    public async Task RequeueAsync(string documentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync("UPDATE documents SET status = 'queued' WHERE id = @documentId AND status = 'processing'", new { documentId });
    }

    public async Task<int> RequeueInterruptedAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync("UPDATE documents SET status = 'queued' WHERE status = 'processing'");
    }

    public async Task<(int Queued, int Processing)> CountQueueAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var counts = (await c.QueryAsync<(string Status, long Count)>(
            "SELECT status, count(*) FROM documents WHERE status IN ('queued', 'processing') GROUP BY status")).ToDictionary(r => r.Status, r => r.Count);
        return ((int)counts.GetValueOrDefault("queued"), (int)counts.GetValueOrDefault("processing"));
    }

    public async Task<IReadOnlyList<StoredChunk>?> CompleteAsync(string documentId, string title,
        IReadOnlyList<(string Text, string? Section, int? Page)> chunks, IReadOnlyDictionary<string, float[][]> vectors, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var kb = await c.QuerySingleOrDefaultAsync<(string KbId, string? Active, string? Pending, string? Replaces)>(
            """
            SELECT d.kb_id, k.embedding_model, k.pending_embedding_model, d.replaces
            FROM documents d JOIN knowledge_bases k ON k.id = d.kb_id WHERE d.id = @documentId
            """, new { documentId }, tx);
        if (kb.KbId is null)
        {
            throw new DocumentGoneException(documentId);
        }
        // Checked inside the write transaction, so a model switch is ordered either before (the caller retries with
        // the new model) or after (the switch finds these chunks, and waits for their vectors from the pending model
        // if they came without).
        if (kb.Active is not null && !vectors.ContainsKey(kb.Active))
        {
            return null;
        }
        await c.ExecuteAsync("DELETE FROM chunks WHERE document_id = @documentId", new { documentId }, tx);
        await using var insert = new NpgsqlCommand(
            "INSERT INTO chunks (kb_id, document_id, ordinal, text, section, page) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", c, (NpgsqlTransaction)tx);
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = kb.KbId });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = documentId });
        var pI = insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint });
        var pText = insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
        var pSection = insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
        var pPage = insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint });
        var stored = new List<StoredChunk>(chunks.Count);
        for (var i = 0; i < chunks.Count; i++)
        {
            var (text, section, page) = chunks[i];
            pI.Value = (long)i;
            pText.Value = text;
            pSection.Value = (object?)section ?? DBNull.Value;
            pPage.Value = page is { } p ? (long)p : DBNull.Value;
            var id = (long)(await insert.ExecuteScalarAsync(ct))!;
            stored.Add(new StoredChunk(id, kb.KbId, documentId, i, text, section, page));
        }
        foreach (var model in new[] { kb.Active, kb.Pending }.OfType<string>().Distinct(StringComparer.Ordinal).Where(vectors.ContainsKey))
        {
            var modelVectors = vectors[model];
            if (modelVectors.Length != stored.Count)
            {
                throw new ArgumentException($"{modelVectors.Length} vectors for {stored.Count} chunks from model {model}", nameof(vectors));
            }
            await InsertVectorsAsync(c, (NpgsqlTransaction)tx, model, [.. stored.Select((s, i) => (s.Id, modelVectors[i]))], onlyExisting: false, ct);
        }
        if (kb.Replaces is { } replaced)
        {
            // The new version becomes the one searched in the same transaction as the old one goes: never both, never neither.
            await DeleteDocumentRowsAsync(c, tx, [replaced], ct);
        }
        await c.ExecuteAsync(
            """
            UPDATE documents SET status = 'ready', error = NULL, title = CASE WHEN renamed = 1 THEN title ELSE @title END, chunk_count = @n,
              updated_at = @now, replaces = NULL
            WHERE id = @documentId
            """,
            new { documentId, title, n = chunks.Count, now = now.ToUnixTimeMilliseconds() }, tx);
        await ChangedAsync(c, tx, KnowledgeChange.Document, kb.KbId, documentId, replaces: kb.Replaces);
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

    public async Task SetEmbeddingModelsAsync(string knowledgeBaseId, string? active, string? pending, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync("UPDATE knowledge_bases SET embedding_model = @active, pending_embedding_model = @pending WHERE id = @knowledgeBaseId",
            new { knowledgeBaseId, active, pending }, tx);
        await c.ExecuteAsync(
            """
            DELETE FROM chunk_vectors WHERE (@active IS NULL OR model <> @active) AND (@pending IS NULL OR model <> @pending)
              AND chunk_id IN (SELECT id FROM chunks WHERE kb_id = @knowledgeBaseId)
            """, new { knowledgeBaseId, active, pending }, tx);
        await ChangedAsync(c, tx, KnowledgeChange.KnowledgeBase, knowledgeBaseId, null);
        await tx.CommitAsync(ct);
    }

    public async Task SetMediaModelsAsync(string knowledgeBaseId, string? ocrModel, string? transcriptionModel, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync("UPDATE knowledge_bases SET ocr_model = @ocrModel, transcription_model = @transcriptionModel WHERE id = @knowledgeBaseId",
            new { knowledgeBaseId, ocrModel, transcriptionModel });
    }

    public async Task SetRerankModelAsync(string knowledgeBaseId, string? model, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync("UPDATE knowledge_bases SET rerank_model = @model WHERE id = @knowledgeBaseId", new { knowledgeBaseId, model });
    }

    public async Task<bool> TryActivatePendingAsync(string knowledgeBaseId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var pending = await c.ExecuteScalarAsync<string?>("SELECT pending_embedding_model FROM knowledge_bases WHERE id = @knowledgeBaseId", new { knowledgeBaseId }, tx);
        if (pending is null)
        {
            return false;
        }
        var missing = await c.ExecuteScalarAsync<long>(
            """
            SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id
            WHERE c.kb_id = @knowledgeBaseId AND d.status = 'ready'
              AND NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.chunk_id = c.id AND v.model = @pending)
            """, new { knowledgeBaseId, pending }, tx);
        if (missing > 0)
        {
            return false;
        }
        await c.ExecuteAsync("UPDATE knowledge_bases SET embedding_model = @pending, pending_embedding_model = NULL WHERE id = @knowledgeBaseId",
            new { knowledgeBaseId, pending }, tx);
        await c.ExecuteAsync("DELETE FROM chunk_vectors WHERE model <> @pending AND chunk_id IN (SELECT id FROM chunks WHERE kb_id = @knowledgeBaseId)",
            new { knowledgeBaseId, pending }, tx);
        await ChangedAsync(c, tx, KnowledgeChange.KnowledgeBase, knowledgeBaseId, null);
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<ChunkText>> ChunksWithoutVectorAsync(string knowledgeBaseId, string model, long afterId, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<ChunkText>(
            """
            SELECT c.id AS Id, c.text AS Text, c.section AS Section FROM chunks c JOIN documents d ON d.id = c.document_id
            WHERE c.kb_id = @knowledgeBaseId AND c.id > @afterId AND d.status = 'ready'
              AND NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.chunk_id = c.id AND v.model = @model)
            ORDER BY c.id LIMIT @limit
            """, new { knowledgeBaseId, model, afterId, limit });
        return [.. rows];
    }

    public async Task<(int Chunks, int Embedded)> VectorProgressAsync(string knowledgeBaseId, string model, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleAsync<(long Chunks, long Embedded)>(
            """
            SELECT count(*), count(v.chunk_id) FROM chunks c JOIN documents d ON d.id = c.document_id
            LEFT JOIN chunk_vectors v ON v.chunk_id = c.id AND v.model = @model
            WHERE c.kb_id = @knowledgeBaseId AND d.status = 'ready'
            """, new { knowledgeBaseId, model });
        return ((int)row.Chunks, (int)row.Embedded);
    }

    public async Task SaveVectorsAsync(string model, IReadOnlyList<(long ChunkId, float[] Vector)> vectors, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await InsertVectorsAsync(c, (NpgsqlTransaction)tx, model, vectors, onlyExisting: true, ct);
        if (vectors.Count > 0)
        {
            await ChangedAsync(c, tx, KnowledgeChange.Vectors, null, null, model: model, fromChunk: vectors.Min(v => v.ChunkId), toChunk: vectors.Max(v => v.ChunkId));
        }
        await tx.CommitAsync(ct);
    }

    public async IAsyncEnumerable<(long ChunkId, float[] Vector)> LoadVectorsAsync(string knowledgeBaseId, string model, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var command = new NpgsqlCommand("""
            SELECT v.chunk_id, v.vector FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id JOIN documents d ON d.id = c.document_id
            WHERE c.kb_id = $1 AND v.model = $2 AND d.status = 'ready'
            """, c);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = knowledgeBaseId });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = model });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            yield return (reader.GetInt64(0), VectorBlob.Decode((byte[])reader.GetValue(1)));
        }
    }

    private static async Task InsertVectorsAsync(NpgsqlConnection c, NpgsqlTransaction tx, string model, IReadOnlyList<(long ChunkId, float[] Vector)> vectors,
        bool onlyExisting, CancellationToken ct)
    {
        const string Upsert = " ON CONFLICT (chunk_id, model) DO UPDATE SET vector = excluded.vector";
        await using var insert = new NpgsqlCommand(onlyExisting
            ? "INSERT INTO chunk_vectors (chunk_id, model, vector) SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM chunks WHERE id = $1)" + Upsert
            : "INSERT INTO chunk_vectors (chunk_id, model, vector) VALUES ($1, $2, $3)" + Upsert, c, tx);
        var pId = insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = model });
        var pVector = insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea });
        foreach (var (id, vector) in vectors)
        {
            pId.Value = id;
            pVector.Value = VectorBlob.Encode(vector);
            await insert.ExecuteNonQueryAsync(ct);
        }
    }

    private sealed record KbRow(string Id, string WorkspaceId, string Name, string? Description, long CreatedAt, string? EmbeddingModel, string? PendingEmbeddingModel,
        string? RerankModel, string? OcrModel, string? TranscriptionModel)
    {
        public KnowledgeBase ToModel() => new(Id, WorkspaceId, Name, Description, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), EmbeddingModel, PendingEmbeddingModel,
            RerankModel) { OcrModel = OcrModel, TranscriptionModel = TranscriptionModel };
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
        public string? Origin { get; init; }
        public string? Replaces { get; init; }
        public long Renamed { get; init; }

        public KnowledgeDocument ToModel() => new(Id, KbId, Title, Source, MediaType, Size, Sha256, DocumentStatusNames.Parse(Status), Error,
            (int)ChunkCount, (int)Attempts, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt),
            Origin, Replaces, Renamed != 0);
    }
}
