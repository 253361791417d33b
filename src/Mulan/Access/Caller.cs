using Mulan.Audit;

namespace Mulan.Access;

public enum CallerKind
{
    /// <summary>The bootstrap administrator key (as a bearer, or a session signed in with it).</summary>
    AdminKey,
    /// <summary>A user flagged instance administrator.</summary>
    InstanceAdmin,
    /// <summary>A workspace member, acting in one workspace with one role.</summary>
    User,
    /// <summary>A virtual key of one workspace.</summary>
    VirtualKey,
}

/// <summary>
/// Who is calling <c>/api</c>, resolved once per request by <c>Mulan.People.CallerResolver</c>. The two admin kinds see every
/// workspace (<see cref="WorkspaceId"/> null); a user and a virtual key act in exactly one, and handlers answer 404 for the
/// ids of any other.
/// </summary>
public sealed record Caller(CallerKind Kind, string? WorkspaceId, WorkspaceRole? Role = null, string? KeyId = null, string? UserId = null)
{
    private const string ItemKey = "mulan.access.caller";

    public static readonly Caller Administrator = new(CallerKind.AdminKey, null);

    public bool IsAdmin => Kind is CallerKind.AdminKey or CallerKind.InstanceAdmin;

    /// <summary>Whether the request came with the session cookie (then unsafe methods need the CSRF header).</summary>
    public bool ViaCookie { get; init; }

    /// <summary>The session token the request presented (cookie or bearer), for logout and the CSRF token.</summary>
    public string? SessionToken { get; init; }

    /// <summary>Every membership of a user (not only the current one), for <c>/api/auth/me</c> and workspace selection.</summary>
    public IReadOnlyList<(string WorkspaceId, WorkspaceRole Role)> Memberships { get; init; } = [];

    /// <summary>Administrators always; users by their role in the current workspace; a virtual key counts as a member.</summary>
    public bool Can(WorkspaceRole role) => Kind switch
    {
        CallerKind.AdminKey or CallerKind.InstanceAdmin => true,
        CallerKind.VirtualKey => role <= WorkspaceRole.Member,
        _ => WorkspaceId is not null && Role is { } own && own >= role,
    };

    /// <summary>For the in-handler checks that admitted only the administrator key before users existed: administrators,
    /// or a user with at least this role. Never a virtual key, whose powers stay exactly what they were.</summary>
    public bool HasRole(WorkspaceRole role) => Kind != CallerKind.VirtualKey && Can(role);

    /// <summary>For a workspace user (or key) naming a workspace in a body or query: their own, when they named none or
    /// named it (by id or name); null when they named another, which handlers answer with 404.</summary>
    public async Task<Workspace?> OwnWorkspaceAsync(string? requested, IAccessStore access, CancellationToken ct)
    {
        if (WorkspaceId is null || await access.FindWorkspaceAsync(WorkspaceId, ct) is not { } own)
        {
            return null;
        }
        var named = requested?.Trim();
        return string.IsNullOrEmpty(named) || named == own.Id || string.Equals(named, own.Name, StringComparison.OrdinalIgnoreCase) ? own : null;
    }

    /// <summary>The caller as the audit log names it.</summary>
    public string Actor => Kind switch
    {
        CallerKind.AdminKey => AuditActor.Admin,
        CallerKind.VirtualKey => AuditActor.Key(KeyId ?? ""),
        _ => AuditActor.User(UserId ?? ""),
    };

    public static Caller Of(HttpContext ctx) => (Caller)ctx.Items[ItemKey]!;

    public static Caller? Find(HttpContext ctx) => ctx.Items.TryGetValue(ItemKey, out var c) ? c as Caller : null;

    internal static void Set(HttpContext ctx, Caller caller) => ctx.Items[ItemKey] = caller;

    /// <summary>Admin key, an administrator, a workspace user or a virtual key; anything else is 401. Keys and users of
    /// another workspace then see 404s, never 403s. A user in several workspaces names one with <c>X-Mulan-Workspace</c>.</summary>
    public static RouteGroupBuilder RequireCaller(RouteGroupBuilder group) =>
        group.RequireAccess(WorkspaceRole.Member).AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var caller = await CallerGate.ResolveAsync(http);
            if (caller is null)
            {
                return Results.Problem(statusCode: 401, title: "Unauthorized", detail: "Pass the administrator key or a virtual key as 'Authorization: Bearer <key>'.");
            }
            if (caller is { Kind: CallerKind.User, WorkspaceId: null })
            {
                return CallerGate.NoWorkspace(http, caller);
            }
            Set(http, caller);
            return await next(context);
        });
}
