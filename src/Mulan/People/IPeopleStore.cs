using Mulan.Access;

namespace Mulan.People;

/// <summary>Storage seam for users, memberships, sessions, personal tokens and invitations. Secrets only as hashes.</summary>
public interface IPeopleStore
{
    /// <returns>false when the email is taken.</returns>
    Task<bool> CreateUserAsync(UserAccount user, Membership? membership, CancellationToken ct);
    Task<UserAccount?> FindUserAsync(string id, CancellationToken ct);
    Task<UserAccount?> FindUserByEmailAsync(string normalizedEmail, CancellationToken ct);
    /// <summary>All users, or the members of one workspace.</summary>
    Task<IReadOnlyList<UserAccount>> ListUsersAsync(string? workspaceId, CancellationToken ct);
    Task SetPasswordAsync(string userId, string passwordHash, string? name, CancellationToken ct);
    Task SetDisabledAsync(string userId, bool disabled, CancellationToken ct);
    Task SetSignInStateAsync(string userId, int failedCount, DateTimeOffset? lockedUntil, CancellationToken ct);
    /// <summary>Removes the user with their memberships, sessions, tokens and invitations.</summary>
    Task<bool> DeleteUserAsync(string userId, CancellationToken ct);

    Task<IReadOnlyList<Membership>> MembershipsAsync(string userId, CancellationToken ct);
    Task<IReadOnlyList<Membership>> WorkspaceMembershipsAsync(string? workspaceId, CancellationToken ct);
    Task SetMembershipAsync(Membership membership, CancellationToken ct);
    Task<bool> RemoveMembershipAsync(string userId, string workspaceId, CancellationToken ct);

    Task CreateSessionAsync(Session session, CancellationToken ct);
    Task<Session?> FindSessionAsync(string tokenHash, CancellationToken ct);
    Task ExtendSessionAsync(string tokenHash, DateTimeOffset expiresAt, CancellationToken ct);
    Task DeleteSessionAsync(string tokenHash, CancellationToken ct);
    Task DeleteUserSessionsAsync(string userId, CancellationToken ct);

    Task CreateTokenAsync(PersonalToken token, CancellationToken ct);
    Task<PersonalToken?> FindTokenByHashAsync(string tokenHash, CancellationToken ct);
    Task<IReadOnlyList<PersonalToken>> ListTokensAsync(string userId, CancellationToken ct);
    /// <returns>false when the user has no such active token.</returns>
    Task<bool> RevokeTokenAsync(string id, string userId, DateTimeOffset at, CancellationToken ct);

    Task CreateInvitationAsync(Invitation invitation, CancellationToken ct);
    /// <returns>the invited user's id when the invitation is unused and unexpired (it stays so).</returns>
    Task<string?> FindInvitationAsync(string tokenHash, DateTimeOffset now, CancellationToken ct);
    /// <summary>Marks an unused, unexpired invitation used, atomically: a link works once.</summary>
    /// <returns>the invited user's id, or null.</returns>
    Task<string?> UseInvitationAsync(string tokenHash, DateTimeOffset now, CancellationToken ct);
}
