using Dapper;
using Mulan.Console.Chat;

namespace Mulan.Storage;

/// <summary>Share links of the chat page (migration 21) and the passages its citations open.</summary>
/// <remarks>The same SQL on SQLite and PostgreSQL: one store over either database.</remarks>
public sealed class ShareStore(IStorageDatabase db) : IChatStore
{
    private const string Columns = """
        id AS Id, app_id AS AppId, workspace_id AS WorkspaceId, name AS Name, token_hash AS TokenHash, display_prefix AS DisplayPrefix,
        created_by AS CreatedBy, created_at AS CreatedAt, expires_at AS ExpiresAt, revoked_at AS RevokedAt
        """;

    public async Task CreateShareAsync(ChatShare share, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO chat_shares (id, app_id, workspace_id, name, token_hash, display_prefix, created_by, created_at, expires_at, revoked_at)
            VALUES (@Id, @AppId, @WorkspaceId, @Name, @TokenHash, @DisplayPrefix, @CreatedBy, @CreatedAt, @ExpiresAt, NULL)
            """,
            new
            {
                share.Id, share.AppId, share.WorkspaceId, share.Name, share.TokenHash, share.DisplayPrefix, share.CreatedBy,
                CreatedAt = share.CreatedAt.ToUnixTimeMilliseconds(), ExpiresAt = share.ExpiresAt.ToUnixTimeMilliseconds(),
            });
    }

    public async Task<ChatShare?> FindShareByHashAsync(string tokenHash, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM chat_shares WHERE token_hash = @tokenHash", new { tokenHash });
        return row?.ToModel();
    }

    public async Task<IReadOnlyList<ChatShare>> SharesAsync(string appId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<Row>($"SELECT {Columns} FROM chat_shares WHERE app_id = @appId ORDER BY created_at, id", new { appId });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<bool> RevokeShareAsync(string appId, string shareId, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("UPDATE chat_shares SET revoked_at = @at WHERE id = @shareId AND app_id = @appId AND revoked_at IS NULL",
            new { appId, shareId, at = at.ToUnixTimeMilliseconds() }) == 1;
    }

    public async Task<ChatPassage?> FindPassageAsync(long chunkId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<PassageRow>(
            """
            SELECT c.id AS Id, c.kb_id AS KnowledgeBaseId, c.document_id AS DocumentId, d.title AS DocumentTitle, c.text AS Text, c.section AS Section,
                c.page AS Page
            FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = @chunkId
            """, new { chunkId });
        return row is null ? null : new ChatPassage(row.Id, row.KnowledgeBaseId, row.DocumentId, row.DocumentTitle, row.Text, row.Section, (int?)row.Page);
    }

    private sealed record PassageRow(long Id, string KnowledgeBaseId, string DocumentId, string DocumentTitle, string Text, string? Section, long? Page);

    private sealed record Row(string Id, string AppId, string WorkspaceId, string? Name, string TokenHash, string DisplayPrefix, string CreatedBy,
        long CreatedAt, long ExpiresAt, long? RevokedAt)
    {
        public ChatShare ToModel() => new(Id, AppId, WorkspaceId, Name, TokenHash, DisplayPrefix, CreatedBy, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
            DateTimeOffset.FromUnixTimeMilliseconds(ExpiresAt), RevokedAt is { } r ? DateTimeOffset.FromUnixTimeMilliseconds(r) : null);
    }
}
