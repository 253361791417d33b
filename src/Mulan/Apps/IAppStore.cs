namespace Mulan.Apps;

/// <summary>An app: its identity and which of its immutable versions is published.</summary>
public sealed record App(string Id, string WorkspaceId, string Slug, string Name, string Kind, int LatestVersion, int? PublishedVersion,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>One immutable version of an app's definition, as JSON.</summary>
public sealed record AppVersion(string AppId, int Version, string Definition, DateTimeOffset CreatedAt, string? Note);

public sealed record Conversation(string Id, string AppId, string WorkspaceId, string EndUser, string Title, DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt, int Messages);

/// <param name="Citations">the answer's citations as JSON (assistant turns).</param>
public sealed record ConversationMessage(int Seq, string Role, string Content, string? RequestId, int? AppVersion, string? Citations, DateTimeOffset At);

/// <summary>One answer an app gave, by the request id its caller saw: what feedback refers to.</summary>
public sealed record AppAnswer(string RequestId, string AppId, int AppVersion, string WorkspaceId, string KeyId, string EndUser, string? ConversationId,
    string Question, string Answer, string? Citations, DateTimeOffset At);

/// <param name="Rating">up or down.</param>
/// <param name="Correction">the answer it should have been; later an evaluation item.</param>
public sealed record AppFeedback(string RequestId, string AppId, int AppVersion, string WorkspaceId, string EndUser, string Rating, string? Comment,
    string? Correction, string Question, string Answer, DateTimeOffset At);

/// <summary>A turn to store: the conversation (created when new), the user's and the app's messages, and the answer.</summary>
public sealed record ConversationTurn(Conversation Conversation, bool IsNew, IReadOnlyList<ConversationMessage> Messages, AppAnswer Answer);

/// <summary>Storage seam for apps, their versions, conversations, answers and feedback.</summary>
public interface IAppStore
{
    /// <returns>false when the workspace has an app with that slug.</returns>
    Task<bool> CreateAsync(App app, AppVersion first, CancellationToken ct);

    /// <summary>Adds the next version when the app's latest is still <paramref name="expectedLatest"/> (null: someone was first).</summary>
    Task<App?> AddVersionAsync(string appId, int expectedLatest, string name, string definition, string? note, DateTimeOffset at, CancellationToken ct);

    Task<App?> SetPublishedAsync(string appId, int version, DateTimeOffset at, CancellationToken ct);

    Task<App?> FindAsync(string appId, CancellationToken ct);

    Task<App?> FindBySlugAsync(string workspaceId, string slug, CancellationToken ct);

    /// <param name="workspaceId">null: every workspace.</param>
    Task<IReadOnlyList<App>> ListAsync(string? workspaceId, CancellationToken ct);

    Task<IReadOnlyList<AppVersion>> VersionsAsync(string appId, CancellationToken ct);

    Task<AppVersion?> VersionAsync(string appId, int version, CancellationToken ct);

    /// <summary>Deletes the app with its versions, conversations and feedback; its usage records stay.</summary>
    Task<bool> DeleteAsync(string appId, CancellationToken ct);

    /// <summary>Stores turns durably in one transaction (group commit), each on its own: one that cannot be stored (its
    /// app was deleted meanwhile) does not stop the others. Messages are numbered in the order they are stored.</summary>
    /// <returns>per turn, null when stored, else why not.</returns>
    Task<IReadOnlyList<Exception?>> SaveTurnsAsync(IReadOnlyList<ConversationTurn> turns, CancellationToken ct);

    Task<Conversation?> FindConversationAsync(string conversationId, CancellationToken ct);

    Task<IReadOnlyList<ConversationMessage>> MessagesAsync(string conversationId, CancellationToken ct);

    /// <param name="endUser">null: every end user.</param>
    Task<(IReadOnlyList<Conversation> Items, int Count)> ConversationsAsync(string appId, string? endUser, int page, int pageSize, CancellationToken ct);

    Task<bool> DeleteConversationAsync(string conversationId, CancellationToken ct);

    Task<AppAnswer?> FindAnswerAsync(string requestId, CancellationToken ct);

    /// <summary>Records feedback on an answer; feedback given again on the same answer replaces it.</summary>
    Task SaveFeedbackAsync(AppFeedback feedback, CancellationToken ct);

    /// <param name="appId">null: every app of <paramref name="workspaceId"/> (null: of every workspace).</param>
    Task<IReadOnlyList<AppFeedback>> FeedbackAsync(string? workspaceId, string? appId, string? rating, int limit, CancellationToken ct);
}
