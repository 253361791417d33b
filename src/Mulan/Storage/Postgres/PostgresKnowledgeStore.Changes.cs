using Dapper;
using Mulan.Knowledge;
using Npgsql;

namespace Mulan.Storage.Postgres;

/// <summary>One row of <c>knowledge_changes</c>: what to read again from the store to bring an in-memory index up to date.</summary>
internal sealed record KnowledgeChange(long Seq, string Kind, string? KnowledgeBaseId, string? DocumentId, string? Replaces, string? Model, long? FromChunk,
    long? ToChunk)
{
    /// <summary>A document became ready, was renamed, or went (DocumentId; Replaces, the version it replaced).</summary>
    public const string Document = "document";

    /// <summary>A knowledge base went, or its embedding models changed: its vectors are read again.</summary>
    public const string KnowledgeBase = "knowledge_base";

    /// <summary>Vectors of Model were stored for chunks FromChunk..ToChunk (re-embedding in the background).</summary>
    public const string Vectors = "vectors";
}

/// <summary>The change log: written in the same transaction as the change it describes, read by <see cref="PostgresKnowledgeSync"/>.</summary>
public sealed partial class PostgresKnowledgeStore
{
    private static Task ChangedAsync(NpgsqlConnection c, System.Data.Common.DbTransaction? tx, string kind, string? kb, string? document,
        string? replaces = null, string? model = null, long? fromChunk = null, long? toChunk = null) =>
        c.ExecuteAsync(
            """
            INSERT INTO knowledge_changes (kind, kb_id, document_id, replaces, model, from_chunk, to_chunk)
            VALUES (@kind, @kb, @document, @replaces, @model, @fromChunk, @toChunk)
            """, new { kind, kb, document, replaces, model, fromChunk, toChunk }, tx);

    /// <summary>The oldest transaction still running: every change written by an older one has committed (or rolled back) and is visible.</summary>
    internal async Task<long> HorizonAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint", cancellationToken: ct));
    }

    /// <summary>The changes written by transactions in [<paramref name="fromTx"/>, <paramref name="toTx"/>), in order.</summary>
    internal async Task<IReadOnlyList<KnowledgeChange>> ChangesAsync(long fromTx, long toTx, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return [.. await c.QueryAsync<KnowledgeChange>(new CommandDefinition(
            """
            SELECT seq AS Seq, kind AS Kind, kb_id AS KnowledgeBaseId, document_id AS DocumentId, replaces AS Replaces, model AS Model,
              from_chunk AS FromChunk, to_chunk AS ToChunk
            FROM knowledge_changes WHERE tx >= @fromTx AND tx < @toTx ORDER BY seq
            """, new { fromTx, toTx }, cancellationToken: ct))];
    }

    /// <summary>A ready document's title and chunks, or null when it is not (or no longer) ready.</summary>
    internal async Task<(string Title, IReadOnlyList<StoredChunk> Chunks)?> ReadyDocumentAsync(string documentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var title = await c.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT title FROM documents WHERE id = @documentId AND status = 'ready'", new { documentId }, cancellationToken: ct));
        if (title is null)
        {
            return null;
        }
        var rows = await c.QueryAsync<ChunkRow>(new CommandDefinition(
            """
            SELECT id AS Id, kb_id AS KbId, document_id AS DocumentId, ordinal AS Ordinal, text AS Text, section AS Section, page AS Page
            FROM chunks WHERE document_id = @documentId ORDER BY id
            """, new { documentId }, cancellationToken: ct));
        return (title, [.. rows.Select(r => new StoredChunk(r.Id, r.KbId, r.DocumentId, (int)r.Ordinal, r.Text, r.Section, (int?)r.Page))]);
    }

    /// <summary>The vectors of <paramref name="model"/> of one document's chunks, or of the chunks in a range of ids, with their knowledge base.</summary>
    internal async Task<IReadOnlyList<(string KnowledgeBaseId, long ChunkId, float[] Vector)>> VectorsAsync(string model, string? documentId, long fromChunk,
        long toChunk, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<(string KbId, long ChunkId, byte[] Vector)>(new CommandDefinition(
            """
            SELECT c.kb_id, v.chunk_id, v.vector FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id
            WHERE v.model = @model AND (@documentId IS NULL OR c.document_id = @documentId) AND v.chunk_id BETWEEN @fromChunk AND @toChunk
            """, new { model, documentId, fromChunk, toChunk }, cancellationToken: ct));
        return [.. rows.Select(r => (r.KbId, r.ChunkId, VectorBlob.Decode(r.Vector)))];
    }
}
