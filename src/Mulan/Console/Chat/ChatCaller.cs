using Mulan.Access;
using Mulan.Apps;

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
/// anything else, and never accepted by any other route); anything else is a person of the workspace.
/// </summary>
public sealed class ChatAccess(IChatStore store, AdminKey adminKey, AccessService access, TimeProvider time)
{
    /// <summary>What share tokens start with; nothing else on this server does.</summary>
    public const string TokenPrefix = "msh-";

    /// <returns>the caller, or null when the request is not authenticated (or a share token is unknown, revoked or expired).</returns>
    public async ValueTask<ChatCaller?> ResolveAsync(HttpContext ctx)
    {
        var bearer = BearerToken.Of(ctx.Request);
        if (bearer is not null && bearer.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            if (bearer.Length > 200 || await store.FindShareByHashAsync(KeyMaterial.Hash(bearer), ctx.RequestAborted) is not { } share
                || !share.UsableAt(time.GetUtcNow()))
            {
                return null;
            }
            return new ChatCaller(share.WorkspaceId, ChatCaller.SharePrefix + share.Id, false, share, "share:" + share.Id);
        }
        return ResolvePerson(bearer);
    }

    private ChatCaller? ResolvePerson(string? bearer)
    {
        if (adminKey.Matches(bearer))
        {
            return new ChatCaller(null, "admin", true, null, Audit.AuditActor.Admin);
        }
        // A virtual key of the workspace counts as a member.
        return access.Authenticate(bearer) is { } key ? new ChatCaller(key.WorkspaceId, "key:" + key.Id, false, null, Audit.AuditActor.Key(key.Id)) : null;
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
