using Mulan.Access;
using Mulan.Apps;
using Mulan.People;

namespace Mulan.Console.Chat;

/// <summary>Who is chatting: a person of the app's workspace (or an administrator), or the holder of a share link.</summary>
/// <param name="WorkspaceId">the caller's workspace; null for the instance administrator.</param>
/// <param name="EndUser">whom conversations and usage belong to: a user id, <c>share:&lt;id&gt;</c>, <c>key:&lt;id&gt;</c>, <c>admin</c>.</param>
/// <param name="CanManage">may try unpublished versions and manage share links (administrator, workspace admin or owner).</param>
/// <param name="Actor">as the audit log names the caller.</param>
public sealed record ChatCaller(string? WorkspaceId, string EndUser, bool CanManage, ChatShare? Share, string Actor)
{
    public const string SharePrefix = "share:";
}

/// <summary>
/// Resolves the caller of the chat API. A bearer that looks like a share token is only ever a share token (never tried as
/// anything else, and accepted by no other route); anything else is a person resolved like every <c>/api</c> caller
/// (<see cref="CallerResolver"/>: session cookie with its CSRF header on POST, personal or session token, virtual key,
/// administrator key), who must be at least a member of the app's workspace.
/// </summary>
public sealed class ChatAccess(IChatStore store, CallerResolver people, TimeProvider time)
{
    /// <summary>What share tokens start with; nothing else on this server does.</summary>
    public const string TokenPrefix = RequiredAccess.ShareLinkPrefix;

    /// <returns>the caller, or the problem to answer (401 unknown, revoked or expired; 400 antiforgery; 403 a viewer).</returns>
    public async ValueTask<(ChatCaller? Caller, IResult? Problem)> ResolveAsync(HttpContext ctx)
    {
        var bearer = BearerToken.Of(ctx.Request);
        if (bearer is not null && bearer.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            if (bearer.Length > 200 || await store.FindShareByHashAsync(KeyMaterial.Hash(bearer), ctx.RequestAborted) is not { } share
                || !share.UsableAt(time.GetUtcNow()))
            {
                return (null, Unauthorized(ctx));
            }
            return (new ChatCaller(share.WorkspaceId, ChatCaller.SharePrefix + share.Id, false, share, "share:" + share.Id), null);
        }
        if (await people.ResolveAsync(ctx) is not { } caller)
        {
            return (null, Unauthorized(ctx));
        }
        if (caller.ViaCookie && !HttpMethods.IsGet(ctx.Request.Method) && !HttpMethods.IsHead(ctx.Request.Method)
            && !SessionCsrf.Matches(caller, ctx.Request.Headers[SessionCsrf.HeaderName].ToString()))
        {
            return (null, Results.Problem(statusCode: 400, title: "Bad Request",
                detail: $"A request signed in with the session cookie must send the '{SessionCsrf.HeaderName}' header (csrfToken from GET /api/auth/me).",
                extensions: new Dictionary<string, object?> { ["code"] = "antiforgery" }));
        }
        if (caller is { Kind: CallerKind.User, WorkspaceId: null })
        {
            return (null, CallerGate.NoWorkspace(ctx, caller));
        }
        if (!caller.Can(WorkspaceRole.Member))
        {
            return (null, Results.Problem(statusCode: 403, title: "Forbidden", detail: "Chatting with apps needs the member role (or higher) in the workspace.",
                extensions: new Dictionary<string, object?> { ["code"] = "forbidden" }));
        }
        var endUser = caller.UserId ?? (caller.KeyId is { } key ? "key:" + key : "admin");
        return (new ChatCaller(caller.WorkspaceId, endUser, caller.Can(WorkspaceRole.Admin), null, caller.Actor), null);
    }

    public static IResult Unauthorized(HttpContext ctx)
    {
        ctx.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(statusCode: 401, title: "Unauthorized", detail: "Sign in, or open the chat page with a valid share link.");
    }
}

/// <summary>Finds the published app a chat request names, as its caller may see it.</summary>
public sealed class ChatApps(AppDirectory directory, IAppStore apps, IAccessStore workspaces)
{
    public const string WorkspaceHeader = "X-Mulan-Workspace";

    /// <summary>The published app; null when there is none the caller may reach (a share token's other apps included).</summary>
    public async Task<PublishedApp?> FindAsync(ChatCaller caller, string slug, HttpContext ctx)
    {
        if (caller.Share is { } share)
        {
            var published = directory.Find(share.WorkspaceId, slug);
            return published?.App.Id == share.AppId ? published : null;
        }
        if (await WorkspaceAsync(caller, ctx) is { } workspace)
        {
            return directory.Find(workspace, slug);
        }
        // The administrator without a workspace: the one published app of that slug, when only one workspace has it.
        var matches = directory.All.Where(a => a.App.Slug == slug).Take(2).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>The app of that slug, published or not (for trying a version).</summary>
    public async Task<App?> FindAnyAsync(ChatCaller caller, string slug, HttpContext ctx)
    {
        if (await WorkspaceAsync(caller, ctx) is { } workspace)
        {
            return await apps.FindBySlugAsync(workspace, slug, ctx.RequestAborted);
        }
        var all = (await apps.ListAsync(null, ctx.RequestAborted)).Where(a => a.Slug == slug).Take(2).ToList();
        return all.Count == 1 ? all[0] : null;
    }

    /// <summary>Whether the share token names another app than <paramref name="slug"/>: then the request is not its to make.</summary>
    public async Task<bool> IsOtherAppAsync(ChatShare share, string slug, CancellationToken ct) =>
        await apps.FindAsync(share.AppId, ct) is not { } app || app.Slug != slug;

    private async Task<string?> WorkspaceAsync(ChatCaller caller, HttpContext ctx)
    {
        if (caller.WorkspaceId is { } own)
        {
            return own;
        }
        var named = ctx.Request.Headers[WorkspaceHeader].ToString() is { Length: > 0 } h ? h : ctx.Request.Query["workspace"].ToString();
        if (named.Length is 0 or > 200)
        {
            return null;
        }
        return (await workspaces.FindWorkspaceAsync(named, ctx.RequestAborted))?.Id ?? "-";
    }
}
