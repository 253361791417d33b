using Dapper;
using Mulan.Apps;

namespace Mulan.Storage;

/// <remarks>One store over SQLite or PostgreSQL; what differs is <see cref="IStorageDatabase"/>'s.</remarks>
public sealed class AppStore(IStorageDatabase db, Microsoft.Extensions.Options.IOptions<StorageOptions> options) : IAppStore
{
    private const string AppColumns = """
        id AS Id, workspace_id AS WorkspaceId, slug AS Slug, name AS Name, kind AS Kind, latest_version AS LatestVersion,
        published_version AS PublishedVersion, created_at AS CreatedAt, updated_at AS UpdatedAt
        """;

    private const string ConversationColumns = """
        id AS Id, app_id AS AppId, workspace_id AS WorkspaceId, end_user AS EndUser, title AS Title, created_at AS CreatedAt,
        updated_at AS UpdatedAt, messages AS Messages
        """;

    private const string FeedbackColumns = """
        request_id AS RequestId, app_id AS AppId, app_version AS AppVersion, workspace_id AS WorkspaceId, end_user AS EndUser, rating AS Rating,
        comment AS Comment, correction AS Correction, question AS Question, answer AS Answer, at AS At
        """;

    public async Task<bool> CreateAsync(App app, AppVersion first, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var inserted = await c.ExecuteAsync(
            """
            INSERT INTO apps (id, workspace_id, slug, name, kind, latest_version, published_version, created_at, updated_at)
            VALUES (@Id, @WorkspaceId, @Slug, @Name, @Kind, @LatestVersion, @PublishedVersion, @At, @At) ON CONFLICT DO NOTHING
            """,
            new { app.Id, app.WorkspaceId, app.Slug, app.Name, app.Kind, app.LatestVersion, app.PublishedVersion, At = app.CreatedAt.ToUnixTimeMilliseconds() }, tx);
        if (inserted == 0)
        {
            return false;
        }
        await InsertVersionAsync(c, tx, first);
        await tx.CommitAsync(ct);
        return true;
    }

    private static Task InsertVersionAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, AppVersion v) => c.ExecuteAsync(
        "INSERT INTO app_versions (app_id, version, definition, note, created_at) VALUES (@AppId, @Version, @Definition, @Note, @At)",
        new { v.AppId, v.Version, v.Definition, v.Note, At = v.CreatedAt.ToUnixTimeMilliseconds() }, tx);

    public async Task<App?> AddVersionAsync(string appId, int expectedLatest, string name, string definition, string? note, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var updated = await c.ExecuteAsync(
            "UPDATE apps SET latest_version = latest_version + 1, name = @name, updated_at = @at WHERE id = @appId AND latest_version = @expectedLatest",
            new { appId, expectedLatest, name, at = at.ToUnixTimeMilliseconds() }, tx);
        if (updated == 0)
        {
            return null;
        }
        await InsertVersionAsync(c, tx, new AppVersion(appId, expectedLatest + 1, definition, at, note));
        var app = await c.QuerySingleAsync<AppRow>($"SELECT {AppColumns} FROM apps WHERE id = @appId", new { appId }, tx);
        await tx.CommitAsync(ct);
        return app.ToModel();
    }

    public async Task<App?> SetPublishedAsync(string appId, int version, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var updated = await c.ExecuteAsync(
            """
            UPDATE apps SET published_version = @version, updated_at = @at
            WHERE id = @appId AND EXISTS (SELECT 1 FROM app_versions WHERE app_id = @appId AND version = @version)
            """, new { appId, version, at = at.ToUnixTimeMilliseconds() });
        return updated == 0 ? null : await FindAsync(appId, ct);
    }

    public async Task<App?> FindAsync(string appId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<AppRow>($"SELECT {AppColumns} FROM apps WHERE id = @appId", new { appId }))?.ToModel();
    }

    public async Task<App?> FindBySlugAsync(string workspaceId, string slug, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<AppRow>($"SELECT {AppColumns} FROM apps WHERE workspace_id = @workspaceId AND slug = @slug",
            new { workspaceId, slug }))?.ToModel();
    }

    public async Task<IReadOnlyList<App>> ListAsync(string? workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<AppRow>($"SELECT {AppColumns} FROM apps WHERE (@workspaceId IS NULL OR workspace_id = @workspaceId) ORDER BY slug, id",
            new { workspaceId });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<IReadOnlyList<AppVersion>> VersionsAsync(string appId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<VersionRow>(
            "SELECT app_id AS AppId, version AS Version, definition AS Definition, note AS Note, created_at AS CreatedAt FROM app_versions WHERE app_id = @appId ORDER BY version",
            new { appId });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<AppVersion?> VersionAsync(string appId, int version, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<VersionRow>(
            "SELECT app_id AS AppId, version AS Version, definition AS Definition, note AS Note, created_at AS CreatedAt FROM app_versions WHERE app_id = @appId AND version = @version",
            new { appId, version });
        return row?.ToModel();
    }

    public async Task<bool> DeleteAsync(string appId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        // Versions, conversations, answers and feedback go with it (foreign keys cascade); usage records stay.
        return await c.ExecuteAsync("DELETE FROM apps WHERE id = @appId", new { appId }) == 1;
    }

    public async Task<IReadOnlyList<Exception?>> SaveTurnsAsync(IReadOnlyList<ConversationTurn> turns, CancellationToken ct)
    {
        var results = new Exception?[turns.Count];
        await using var c = await db.OpenConnectionAsync(ct);
        // The same durability as the usage ledger's: what LedgerSync says for the ledger holds for conversations.
        await using var tx = await db.BeginWriteAsync(c, options.Value.LedgerSync == LedgerSync.Normal, ct);
        for (var i = 0; i < turns.Count; i++)
        {
            await c.ExecuteAsync("SAVEPOINT turn", transaction: tx);
            try
            {
                await InsertTurnAsync(c, tx, turns[i]);
                await c.ExecuteAsync("RELEASE turn", transaction: tx);
            }
            catch (System.Data.Common.DbException e) when (db.IsConstraintViolation(e))
            {
                // A constraint: the app (or the conversation) was deleted meanwhile. Only this turn is lost.
                await c.ExecuteAsync("ROLLBACK TO turn; RELEASE turn", transaction: tx);
                results[i] = e;
            }
        }
        await tx.CommitAsync(ct);
        return results;
    }

    private async Task InsertTurnAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, ConversationTurn turn)
    {
        var conversation = turn.Conversation;
        if (turn.IsNew)
        {
            await c.ExecuteAsync(
                """
                INSERT INTO conversations (id, app_id, workspace_id, end_user, title, messages, created_at, updated_at)
                VALUES (@Id, @AppId, @WorkspaceId, @EndUser, @Title, 0, @At, @At)
                """,
                new { conversation.Id, conversation.AppId, conversation.WorkspaceId, conversation.EndUser, conversation.Title, At = conversation.CreatedAt.ToUnixTimeMilliseconds() }, tx);
        }
        // The conversation's row first: two requests continuing one conversation at once number their messages one after the other.
        await db.LockRowAsync(c, tx, "conversations", conversation.Id);
        foreach (var m in turn.Messages)
        {
            // Numbered here, not by the request: two requests continuing one conversation at once both get stored.
            await c.ExecuteAsync(
                """
                INSERT INTO conversation_messages (conversation_id, seq, role, content, request_id, app_version, citations, at)
                VALUES (@ConversationId, (SELECT COALESCE(MAX(seq), 0) + 1 FROM conversation_messages WHERE conversation_id = @ConversationId),
                  @Role, @Content, @RequestId, @AppVersion, @Citations, @At)
                """,
                new { ConversationId = conversation.Id, m.Role, m.Content, m.RequestId, m.AppVersion, m.Citations, At = m.At.ToUnixTimeMilliseconds() }, tx);
        }
        await c.ExecuteAsync("UPDATE conversations SET messages = messages + @n, updated_at = @at WHERE id = @id",
            new { n = turn.Messages.Count, at = conversation.UpdatedAt.ToUnixTimeMilliseconds(), id = conversation.Id }, tx);
        var a = turn.Answer;
        await c.ExecuteAsync(
            """
            INSERT INTO app_answers (request_id, app_id, app_version, workspace_id, key_id, end_user, conversation_id, question, answer, citations, at)
            VALUES (@RequestId, @AppId, @AppVersion, @WorkspaceId, @KeyId, @EndUser, @ConversationId, @Question, @Answer, @Citations, @At)
            """,
            new { a.RequestId, a.AppId, a.AppVersion, a.WorkspaceId, a.KeyId, a.EndUser, a.ConversationId, a.Question, a.Answer, a.Citations, At = a.At.ToUnixTimeMilliseconds() }, tx);
    }

    public async Task<Conversation?> FindConversationAsync(string conversationId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<ConversationRow>($"SELECT {ConversationColumns} FROM conversations WHERE id = @conversationId",
            new { conversationId }))?.ToModel();
    }

    public async Task<IReadOnlyList<ConversationMessage>> MessagesAsync(string conversationId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<MessageRow>(
            """
            SELECT seq AS Seq, role AS Role, content AS Content, request_id AS RequestId, app_version AS AppVersion, citations AS Citations, at AS At
            FROM conversation_messages WHERE conversation_id = @conversationId ORDER BY seq
            """, new { conversationId });
        return [.. rows.Select(r => new ConversationMessage((int)r.Seq, r.Role, r.Content, r.RequestId, r.AppVersion is { } v ? (int)v : null, r.Citations,
            DateTimeOffset.FromUnixTimeMilliseconds(r.At)))];
    }

    public async Task<(IReadOnlyList<Conversation> Items, int Count)> ConversationsAsync(string appId, string? endUser, int page, int pageSize, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var args = new { appId, endUser, limit = pageSize, offset = (long)(page - 1) * pageSize };
        var count = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM conversations WHERE app_id = @appId AND (@endUser IS NULL OR end_user = @endUser)", args);
        var rows = await c.QueryAsync<ConversationRow>(
            $"""
            SELECT {ConversationColumns} FROM conversations WHERE app_id = @appId AND (@endUser IS NULL OR end_user = @endUser)
            ORDER BY updated_at DESC, id LIMIT @limit OFFSET @offset
            """, args);
        return ([.. rows.Select(r => r.ToModel())], (int)count);
    }

    public async Task<bool> DeleteConversationAsync(string conversationId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        // Answers keep their feedback (a rating outlives the history it was given in); they just lose the conversation.
        await c.ExecuteAsync("UPDATE app_answers SET conversation_id = NULL WHERE conversation_id = @conversationId", new { conversationId }, tx);
        var deleted = await c.ExecuteAsync("DELETE FROM conversations WHERE id = @conversationId", new { conversationId }, tx);
        await tx.CommitAsync(ct);
        return deleted == 1;
    }

    public async Task<AppAnswer?> FindAnswerAsync(string requestId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<AnswerRow>(
            """
            SELECT request_id AS RequestId, app_id AS AppId, app_version AS AppVersion, workspace_id AS WorkspaceId, key_id AS KeyId, end_user AS EndUser,
              conversation_id AS ConversationId, question AS Question, answer AS Answer, citations AS Citations, at AS At
            FROM app_answers WHERE request_id = @requestId
            """, new { requestId });
        return row is null ? null : new AppAnswer(row.RequestId, row.AppId, (int)row.AppVersion, row.WorkspaceId, row.KeyId, row.EndUser, row.ConversationId,
            row.Question, row.Answer, row.Citations, DateTimeOffset.FromUnixTimeMilliseconds(row.At));
    }

    public async Task SaveFeedbackAsync(AppFeedback f, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO app_feedback (request_id, app_id, app_version, workspace_id, end_user, rating, comment, correction, question, answer, at)
            VALUES (@RequestId, @AppId, @AppVersion, @WorkspaceId, @EndUser, @Rating, @Comment, @Correction, @Question, @Answer, @At)
            ON CONFLICT (request_id) DO UPDATE SET rating = excluded.rating, comment = excluded.comment, correction = excluded.correction, at = excluded.at
            """,
            new { f.RequestId, f.AppId, f.AppVersion, f.WorkspaceId, f.EndUser, f.Rating, f.Comment, f.Correction, f.Question, f.Answer, At = f.At.ToUnixTimeMilliseconds() });
    }

    public async Task<IReadOnlyList<AppFeedback>> FeedbackAsync(string? workspaceId, string? appId, string? rating, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<FeedbackRow>(
            $"""
            SELECT {FeedbackColumns} FROM app_feedback
            WHERE (@workspaceId IS NULL OR workspace_id = @workspaceId) AND (@appId IS NULL OR app_id = @appId) AND (@rating IS NULL OR rating = @rating)
            ORDER BY at DESC, request_id LIMIT @limit
            """, new { workspaceId, appId, rating, limit });
        return [.. rows.Select(r => new AppFeedback(r.RequestId, r.AppId, (int)r.AppVersion, r.WorkspaceId, r.EndUser, r.Rating, r.Comment, r.Correction,
            r.Question, r.Answer, DateTimeOffset.FromUnixTimeMilliseconds(r.At)))];
    }

    private sealed record AppRow(string Id, string WorkspaceId, string Slug, string Name, string Kind, long LatestVersion, long? PublishedVersion, long CreatedAt, long UpdatedAt)
    {
        public App ToModel() => new(Id, WorkspaceId, Slug, Name, Kind, (int)LatestVersion, PublishedVersion is { } p ? (int)p : null,
            DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt));
    }

    private sealed record VersionRow(string AppId, long Version, string Definition, string? Note, long CreatedAt)
    {
        public AppVersion ToModel() => new(AppId, (int)Version, Definition, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), Note);
    }

    private sealed record ConversationRow(string Id, string AppId, string WorkspaceId, string EndUser, string Title, long CreatedAt, long UpdatedAt, long Messages)
    {
        public Conversation ToModel() => new(Id, AppId, WorkspaceId, EndUser, Title, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
            DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt), (int)Messages);
    }

    private sealed record MessageRow(long Seq, string Role, string Content, string? RequestId, long? AppVersion, string? Citations, long At);

    private sealed record AnswerRow(string RequestId, string AppId, long AppVersion, string WorkspaceId, string KeyId, string EndUser, string? ConversationId,
        string Question, string Answer, string? Citations, long At);

    private sealed record FeedbackRow(string RequestId, string AppId, long AppVersion, string WorkspaceId, string EndUser, string Rating, string? Comment,
        string? Correction, string Question, string Answer, long At);
}
