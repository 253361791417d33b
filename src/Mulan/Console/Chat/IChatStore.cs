namespace Mulan.Console.Chat;

/// <summary>A share link of an app: whoever holds its token may chat with that app (and nothing else) until it
/// expires or is revoked. Only the token's hash is stored.</summary>
public sealed record ChatShare(string Id, string AppId, string WorkspaceId, string? Name, string TokenHash, string DisplayPrefix, string CreatedBy,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt)
{
    public bool UsableAt(DateTimeOffset now) => RevokedAt is null && ExpiresAt > now;
}

/// <summary>A stored passage (chunk) with the document it is from.</summary>
public sealed record ChatPassage(long Id, string KnowledgeBaseId, string DocumentId, string DocumentTitle, string Text, string? Section, int? Page);

/// <summary>Storage seam of the chat page: share links and the passages citations point at.</summary>
public interface IChatStore
{
    Task CreateShareAsync(ChatShare share, CancellationToken ct);

    Task<ChatShare?> FindShareByHashAsync(string tokenHash, CancellationToken ct);

    Task<IReadOnlyList<ChatShare>> SharesAsync(string appId, CancellationToken ct);

    /// <returns>false when the app has no such share, or it is already revoked.</returns>
    Task<bool> RevokeShareAsync(string appId, string shareId, DateTimeOffset at, CancellationToken ct);

    Task<ChatPassage?> FindPassageAsync(long chunkId, CancellationToken ct);
}
