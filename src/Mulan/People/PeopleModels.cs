using Mulan.Access;

namespace Mulan.People;

/// <summary>A person who signs in. The email is stored trimmed and lower-cased (and compared without case); the
/// password only as a <see cref="Microsoft.AspNetCore.Identity.PasswordHasher{TUser}"/> hash, null until an invitation is accepted.</summary>
public sealed record UserAccount(string Id, string Email, string? Name, string? PasswordHash, bool InstanceAdmin, bool Disabled, int FailedCount,
    DateTimeOffset? LockedUntil, DateTimeOffset CreatedAt);

public sealed record Membership(string UserId, string WorkspaceId, WorkspaceRole Role, DateTimeOffset CreatedAt);

/// <summary>A sign-in session, stored by the hash of its token. <see cref="UserId"/> is <see cref="AdminUserId"/> for a
/// session signed in with the administrator key.</summary>
public sealed record Session(string TokenHash, string UserId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt)
{
    public const string AdminUserId = "admin";

    /// <summary>The stored user id of a session signed in with the administrator key whose fingerprint is given.</summary>
    public static string AdminSessionUser(string fingerprint) => AdminUserId + ":" + fingerprint;
}

/// <summary>A personal API token (<c>mp-…</c>), stored by its hash; optionally limited to one workspace.</summary>
public sealed record PersonalToken(string Id, string UserId, string Name, string TokenHash, string DisplayPrefix, string? WorkspaceId,
    DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset CreatedAt);

/// <summary>A one-time invitation link, stored by the hash of its token.</summary>
public sealed record Invitation(string TokenHash, string UserId, DateTimeOffset ExpiresAt, DateTimeOffset CreatedAt);

public static class PeopleSecrets
{
    public const string SessionPrefix = "ms-";
    public const string TokenPrefix = "mp-";
    public const string InvitationPrefix = "mi-";

    public static string NewSession() => KeyMaterial.NewSecret(SessionPrefix);
    public static string NewToken() => KeyMaterial.NewSecret(TokenPrefix);
    public static string NewInvitation() => KeyMaterial.NewSecret(InvitationPrefix);

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();
}
