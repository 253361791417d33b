using Dapper;
using Mulan.Access;
using Mulan.People;

namespace Mulan.Storage;

/// <summary>Users, memberships, sessions, personal tokens and invitations (migration 20). Times are Unix milliseconds.</summary>
/// <remarks>One store over SQLite or PostgreSQL. E-mail addresses compare without regard to (ASCII) case on both.</remarks>
public sealed class PeopleStore(IStorageDatabase db) : IPeopleStore
{
    private const string UserColumns = """
        id AS Id, email AS Email, name AS Name, password_hash AS PasswordHash, instance_admin AS InstanceAdmin, disabled AS Disabled,
        failed_count AS FailedCount, locked_until AS LockedUntil, created_at AS CreatedAt
        """;

    public async Task<bool> CreateUserAsync(UserAccount user, Membership? membership, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var inserted = await c.ExecuteAsync(
            """
            INSERT INTO users (id, email, name, password_hash, instance_admin, disabled, failed_count, locked_until, created_at)
            VALUES (@Id, @Email, @Name, @PasswordHash, @InstanceAdmin, @Disabled, 0, NULL, @CreatedAt) ON CONFLICT DO NOTHING
            """,
            new { user.Id, user.Email, user.Name, user.PasswordHash, InstanceAdmin = user.InstanceAdmin ? 1 : 0, Disabled = user.Disabled ? 1 : 0, CreatedAt = Ms(user.CreatedAt) }, tx) == 1;
        if (inserted && membership is not null)
        {
            await UpsertMembershipAsync(c, tx, membership);
        }
        await tx.CommitAsync(ct);
        return inserted;
    }

    public async Task<UserAccount?> FindUserAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<UserRow>($"SELECT {UserColumns} FROM users WHERE id = @id", new { id }))?.ToModel();
    }

    public async Task<UserAccount?> FindUserByEmailAsync(string normalizedEmail, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<UserRow>($"SELECT {UserColumns} FROM users WHERE lower(email) = lower(@normalizedEmail)", new { normalizedEmail }))?.ToModel();
    }

    public async Task<IReadOnlyList<UserAccount>> ListUsersAsync(string? workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<UserRow>(
            $"""
            SELECT {UserColumns} FROM users
            WHERE @workspaceId IS NULL OR id IN (SELECT user_id FROM memberships WHERE workspace_id = @workspaceId)
            ORDER BY lower(email), email
            """, new { workspaceId });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task SetPasswordAsync(string userId, string passwordHash, string? name, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("UPDATE users SET password_hash = @passwordHash, name = COALESCE(@name, name), failed_count = 0, locked_until = NULL WHERE id = @userId",
            new { userId, passwordHash, name });
    }

    public async Task SetDisabledAsync(string userId, bool disabled, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("UPDATE users SET disabled = @disabled WHERE id = @userId", new { userId, disabled = disabled ? 1 : 0 });
    }

    public async Task SetSignInStateAsync(string userId, int failedCount, DateTimeOffset? lockedUntil, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("UPDATE users SET failed_count = @failedCount, locked_until = @locked WHERE id = @userId",
            new { userId, failedCount, locked = lockedUntil is { } l ? Ms(l) : (long?)null });
    }

    public async Task<bool> DeleteUserAsync(string userId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        foreach (var table in new[] { "memberships", "sessions", "personal_tokens", "invitations" })
        {
            // The table names are our own constants.
            await c.ExecuteAsync($"DELETE FROM {table} WHERE user_id = @userId", new { userId }, tx);
        }
        var deleted = await c.ExecuteAsync("DELETE FROM users WHERE id = @userId", new { userId }, tx) == 1;
        await tx.CommitAsync(ct);
        return deleted;
    }

    public async Task<IReadOnlyList<Membership>> MembershipsAsync(string userId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<MembershipRow>(
            "SELECT user_id AS UserId, workspace_id AS WorkspaceId, role AS Role, created_at AS CreatedAt FROM memberships WHERE user_id = @userId ORDER BY created_at",
            new { userId });
        return [.. rows.Select(r => r.ToModel()).OfType<Membership>()];
    }

    public async Task<IReadOnlyList<Membership>> WorkspaceMembershipsAsync(string? workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<MembershipRow>(
            """
            SELECT user_id AS UserId, workspace_id AS WorkspaceId, role AS Role, created_at AS CreatedAt FROM memberships
            WHERE @workspaceId IS NULL OR workspace_id = @workspaceId ORDER BY created_at
            """, new { workspaceId });
        return [.. rows.Select(r => r.ToModel()).OfType<Membership>()];
    }

    public async Task SetMembershipAsync(Membership membership, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await UpsertMembershipAsync(c, tx, membership);
        await tx.CommitAsync(ct);
    }

    public async Task<bool> RemoveMembershipAsync(string userId, string workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("DELETE FROM memberships WHERE user_id = @userId AND workspace_id = @workspaceId", new { userId, workspaceId }) == 1;
    }

    public async Task CreateSessionAsync(Session session, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (@TokenHash, @UserId, @CreatedAt, @ExpiresAt)",
            new { session.TokenHash, session.UserId, CreatedAt = Ms(session.CreatedAt), ExpiresAt = Ms(session.ExpiresAt) });
    }

    public async Task<Session?> FindSessionAsync(string tokenHash, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<SessionRow>(
            "SELECT token_hash AS TokenHash, user_id AS UserId, created_at AS CreatedAt, expires_at AS ExpiresAt FROM sessions WHERE token_hash = @tokenHash",
            new { tokenHash });
        return row is null ? null : new Session(row.TokenHash, row.UserId, At(row.CreatedAt), At(row.ExpiresAt));
    }

    public async Task ExtendSessionAsync(string tokenHash, DateTimeOffset expiresAt, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("UPDATE sessions SET expires_at = @expires WHERE token_hash = @tokenHash", new { tokenHash, expires = Ms(expiresAt) });
    }

    public async Task DeleteSessionAsync(string tokenHash, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("DELETE FROM sessions WHERE token_hash = @tokenHash", new { tokenHash });
    }

    public async Task DeleteUserSessionsAsync(string userId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("DELETE FROM sessions WHERE user_id = @userId", new { userId });
    }

    private const string TokenColumns = """
        id AS Id, user_id AS UserId, name AS Name, token_hash AS TokenHash, display_prefix AS DisplayPrefix, workspace_id AS WorkspaceId,
        expires_at AS ExpiresAt, revoked_at AS RevokedAt, created_at AS CreatedAt
        """;

    public async Task CreateTokenAsync(PersonalToken token, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO personal_tokens (id, user_id, name, token_hash, display_prefix, workspace_id, expires_at, revoked_at, created_at)
            VALUES (@Id, @UserId, @Name, @TokenHash, @DisplayPrefix, @WorkspaceId, @ExpiresAt, NULL, @CreatedAt)
            """,
            new
            {
                token.Id, token.UserId, token.Name, token.TokenHash, token.DisplayPrefix, token.WorkspaceId,
                ExpiresAt = token.ExpiresAt is { } e ? Ms(e) : (long?)null, CreatedAt = Ms(token.CreatedAt),
            });
    }

    public async Task<PersonalToken?> FindTokenByHashAsync(string tokenHash, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<TokenRow>($"SELECT {TokenColumns} FROM personal_tokens WHERE token_hash = @tokenHash", new { tokenHash }))?.ToModel();
    }

    public async Task<IReadOnlyList<PersonalToken>> ListTokensAsync(string userId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<TokenRow>($"SELECT {TokenColumns} FROM personal_tokens WHERE user_id = @userId ORDER BY created_at, id", new { userId });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<bool> RevokeTokenAsync(string id, string userId, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("UPDATE personal_tokens SET revoked_at = @at WHERE id = @id AND user_id = @userId AND revoked_at IS NULL",
            new { id, userId, at = Ms(at) }) == 1;
    }

    public async Task CreateInvitationAsync(Invitation invitation, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("INSERT INTO invitations (token_hash, user_id, expires_at, used_at, created_at) VALUES (@TokenHash, @UserId, @ExpiresAt, NULL, @CreatedAt)",
            new { invitation.TokenHash, invitation.UserId, ExpiresAt = Ms(invitation.ExpiresAt), CreatedAt = Ms(invitation.CreatedAt) });
    }

    public async Task<string?> FindInvitationAsync(string tokenHash, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<string?>(
            "SELECT user_id FROM invitations WHERE token_hash = @tokenHash AND used_at IS NULL AND expires_at > @now", new { tokenHash, now = Ms(now) });
    }

    public async Task<string?> UseInvitationAsync(string tokenHash, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<string?>(
            "UPDATE invitations SET used_at = @now WHERE token_hash = @tokenHash AND used_at IS NULL AND expires_at > @now RETURNING user_id",
            new { tokenHash, now = Ms(now) });
    }

    private static Task UpsertMembershipAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, Membership m) =>
        c.ExecuteAsync(
            """
            INSERT INTO memberships (user_id, workspace_id, role, created_at) VALUES (@UserId, @WorkspaceId, @Role, @CreatedAt)
            ON CONFLICT (user_id, workspace_id) DO UPDATE SET role = excluded.role
            """,
            new { m.UserId, m.WorkspaceId, Role = WorkspaceRoles.Name(m.Role), CreatedAt = Ms(m.CreatedAt) }, tx);

    private static long Ms(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    private static DateTimeOffset At(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private sealed record UserRow(string Id, string Email, string? Name, string? PasswordHash, long InstanceAdmin, long Disabled, long FailedCount,
        long? LockedUntil, long CreatedAt)
    {
        public UserAccount ToModel() => new(Id, Email, Name, PasswordHash, InstanceAdmin != 0, Disabled != 0, (int)FailedCount,
            LockedUntil is { } l ? At(l) : null, At(CreatedAt));
    }

    private sealed record MembershipRow(string UserId, string WorkspaceId, string Role, long CreatedAt)
    {
        // A role this version does not know is no access at all, never a guess.
        public Membership? ToModel() => WorkspaceRoles.Parse(Role) is { } role ? new(UserId, WorkspaceId, role, At(CreatedAt)) : null;
    }

    private sealed record SessionRow(string TokenHash, string UserId, long CreatedAt, long ExpiresAt);

    private sealed record TokenRow(string Id, string UserId, string Name, string TokenHash, string DisplayPrefix, string? WorkspaceId, long? ExpiresAt,
        long? RevokedAt, long CreatedAt)
    {
        public PersonalToken ToModel() => new(Id, UserId, Name, TokenHash, DisplayPrefix, WorkspaceId, ExpiresAt is { } e ? At(e) : null,
            RevokedAt is { } r ? At(r) : null, At(CreatedAt));
    }
}
