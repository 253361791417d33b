using Microsoft.Extensions.Options;
using Mulan.Access;

namespace Mulan.People;

/// <summary>
/// Who a request is: the bearer (admin key, virtual key, personal token <c>mp-…</c>, session token <c>ms-…</c>) or, without
/// one, the <c>mulan_session</c> cookie. A user acts in one workspace: the route's <c>{workspace}</c>, else the
/// <c>X-Mulan-Workspace</c> header (id or name), else their only membership. Resolved once per request.
/// </summary>
public sealed class CallerResolver(AdminKey adminKey, AccessService access, IAccessStore workspaces, IPeopleStore people, TimeProvider time,
    IOptions<PeopleOptions> options)
{
    public const string CookieName = "mulan_session";
    public const string WorkspaceHeader = "X-Mulan-Workspace";
    private const string ItemKey = "mulan.people.resolved";

    /// <summary>A sliding session's expiry is written at most this often, not on every request.</summary>
    private static readonly TimeSpan ExtendEvery = TimeSpan.FromMinutes(1);

    public async ValueTask<Caller?> ResolveAsync(HttpContext ctx)
    {
        if (ctx.Items.TryGetValue(ItemKey, out var cached))
        {
            return cached as Caller;
        }
        var caller = await ResolveCoreAsync(ctx);
        ctx.Items[ItemKey] = caller;
        return caller;
    }

    private async Task<Caller?> ResolveCoreAsync(HttpContext ctx)
    {
        var secret = BearerToken.Of(ctx.Request);
        var viaCookie = false;
        if (string.IsNullOrEmpty(secret) && ctx.Request.Cookies.TryGetValue(CookieName, out var cookie))
        {
            secret = cookie;
            viaCookie = true;
        }
        if (string.IsNullOrEmpty(secret) || secret.Length > 200)
        {
            return null;
        }
        var ct = ctx.RequestAborted;
        if (secret.StartsWith(PeopleSecrets.SessionPrefix, StringComparison.Ordinal))
        {
            return await FromSessionAsync(ctx, secret, viaCookie, ct);
        }
        if (viaCookie)
        {
            // The cookie carries sessions only: a key pasted into a cookie is not a sign-in.
            return null;
        }
        if (adminKey.Matches(secret))
        {
            return Caller.Administrator;
        }
        if (access.Authenticate(secret) is { } key)
        {
            return new Caller(CallerKind.VirtualKey, key.WorkspaceId, KeyId: key.Id);
        }
        if (secret.StartsWith(PeopleSecrets.TokenPrefix, StringComparison.Ordinal)
            && await people.FindTokenByHashAsync(KeyMaterial.Hash(secret), ct) is { RevokedAt: null } token
            && (token.ExpiresAt is not { } expires || expires > time.GetUtcNow())
            && await people.FindUserAsync(token.UserId, ct) is { } user)
        {
            return await ForUserAsync(ctx, user, token.WorkspaceId, ct);
        }
        return null;
    }

    private async Task<Caller?> FromSessionAsync(HttpContext ctx, string secret, bool viaCookie, CancellationToken ct)
    {
        var hash = KeyMaterial.Hash(secret);
        var now = time.GetUtcNow();
        if (await people.FindSessionAsync(hash, ct) is not { } session || session.ExpiresAt <= now)
        {
            return null;
        }
        var o = options.Value;
        if (o.SlidingSessions)
        {
            var extended = Min(now.AddMinutes(o.SessionMinutes), session.CreatedAt.AddDays(o.SessionMaxDays));
            if (extended - session.ExpiresAt >= ExtendEvery)
            {
                await people.ExtendSessionAsync(hash, extended, ct);
            }
        }
        Caller? caller;
        if (session.UserId.StartsWith(Session.AdminUserId + ":", StringComparison.Ordinal))
        {
            // Signed in with a key that has since been replaced: no longer the administrator.
            if (adminKey.Fingerprint() is not { } current || session.UserId != Session.AdminSessionUser(current))
            {
                return null;
            }
            caller = Caller.Administrator;
        }
        else if (await people.FindUserAsync(session.UserId, ct) is { } user)
        {
            caller = await ForUserAsync(ctx, user, null, ct);
        }
        else
        {
            return null;
        }
        return caller is null ? null : caller with { ViaCookie = viaCookie, SessionToken = secret };
    }

    private async Task<Caller?> ForUserAsync(HttpContext ctx, UserAccount user, string? limitedTo, CancellationToken ct)
    {
        if (user.Disabled)
        {
            return null;
        }
        var memberships = (await people.MembershipsAsync(user.Id, ct))
            .Where(m => limitedTo is null || m.WorkspaceId == limitedTo).Select(m => (m.WorkspaceId, m.Role)).ToList();
        if (user.InstanceAdmin && limitedTo is null)
        {
            return new Caller(CallerKind.InstanceAdmin, null, UserId: user.Id) { Memberships = memberships };
        }
        if (user.InstanceAdmin && memberships.Count == 0)
        {
            // An administrator's token limited to one workspace acts there as its owner.
            memberships.Add((limitedTo!, WorkspaceRole.Owner));
        }
        var named = ctx.GetRouteValue("workspace") as string;
        if (string.IsNullOrWhiteSpace(named))
        {
            named = ctx.Request.Headers[WorkspaceHeader].ToString();
        }
        (string WorkspaceId, WorkspaceRole Role)? current = null;
        if (!string.IsNullOrWhiteSpace(named))
        {
            var workspace = memberships.Any(m => m.WorkspaceId == named) ? named
                : (await workspaces.FindWorkspaceAsync(named.Trim(), ct))?.Id;
            current = memberships.FirstOrDefault(m => m.WorkspaceId == workspace) is { WorkspaceId: not null } m ? m : null;
        }
        else if (memberships.Count == 1)
        {
            current = memberships[0];
        }
        return new Caller(CallerKind.User, current?.WorkspaceId, current?.Role, UserId: user.Id) { Memberships = memberships };
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
