using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Apps;
using Mulan.Audit;
using Mulan.Hosting.Problems;

namespace Mulan.Console.Chat;

/// <summary><c>/api/apps/{id}/shares</c>: share links of an app's chat page (administrator or a workspace admin). The
/// token is shown once, at creation, and is kept only as its hash.</summary>
public static class ShareEndpoints
{
    public static IEndpointRouteBuilder MapShares(this IEndpointRouteBuilder routes)
    {
        var shares = routes.MapGroup("/api/apps/{id}/shares").WithMetadata(new RequestSizeLimitAttribute(16 * 1024)).RequireAccess(WorkspaceRole.Admin);
        shares.MapPost("/", CreateAsync).WithName("CreateShare").WithSummary("A share link of the app's chat page: {name?, expiresInDays?} → {id, token (once), url}.");
        shares.MapGet("/", ListAsync).WithName("ListShares").WithSummary("The app's share links (never their tokens).");
        shares.MapDelete("/{shareId}", RevokeAsync).WithName("RevokeShare").WithSummary("Revoke a share link: its token is refused from then on.");
        return routes;
    }

    public sealed record ShareView(string Id, string App, string? Name, string Prefix, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt,
        DateTimeOffset? RevokedAt)
    {
        public static ShareView From(ChatShare s) => new(s.Id, s.AppId, s.Name, s.DisplayPrefix, s.CreatedBy, s.CreatedAt, s.ExpiresAt, s.RevokedAt);
    }

    /// <summary>The app, when the caller may manage its shares; otherwise the problem to answer.</summary>
    private static async Task<(App? App, ChatCaller? Caller, IResult? Problem)> ManagedAsync(string id, HttpContext ctx)
    {
        // The /api gate has refused anyone else (share tokens included: they are no caller of /api).
        var (caller, problem) = await ctx.RequestServices.GetRequiredService<ChatAccess>().ResolveAsync(ctx);
        if (problem is not null || caller!.Share is not null)
        {
            return (null, null, problem ?? ChatAccess.Unauthorized(ctx));
        }
        var app = await ctx.RequestServices.GetRequiredService<AppService>().FindAsync(id, caller.WorkspaceId, ctx.RequestAborted);
        if (app is null)
        {
            return (null, null, TypedResults.Problem(statusCode: 404, detail: $"No app '{(id.Length > 64 ? id[..64] : id)}'."));
        }
        return caller.CanManage ? (app, caller, null) : (null, null, TypedResults.Problem(statusCode: 403, detail: "Share links are managed by the workspace's administrators."));
    }

    private static async Task<IResult> CreateAsync(string id, HttpContext ctx, IChatStore store, AuditLog audit, TimeProvider time, IOptions<ChatPageOptions> options)
    {
        var (app, caller, problem) = await ManagedAsync(id, ctx);
        if (problem is not null)
        {
            return problem;
        }
        var (body, bad) = await JsonBody.ReadObjectAsync(ctx.Request, ctx.RequestAborted, "{name?, expiresInDays?}", maxDepth: 4, optional: true);
        if (bad is not null)
        {
            return bad;
        }
        var errors = new Dictionary<string, string[]>();
        var maxDays = options.Value.MaxShareDays;
        foreach (var (name, _) in body!)
        {
            if (name is not ("name" or "expiresInDays"))
            {
                errors.AddError("$." + name, "not a field of a share link (name, expiresInDays)");
            }
        }
        string? label = null;
        if (body["name"] is { } n)
        {
            label = n is JsonValue nv && nv.TryGetValue<string>(out var s) && s.Trim().Length is > 0 and <= 100 ? s.Trim() : null;
            if (label is null)
            {
                errors.AddError("$.name", "must be a name of 1 to 100 characters");
            }
        }
        var days = maxDays;
        if (body["expiresInDays"] is { } e)
        {
            days = e is JsonValue ev && ev.TryGetValue<int>(out var d) && d >= 1 && d <= maxDays ? d : 0;
            if (days == 0)
            {
                errors.AddError("$.expiresInDays", $"must be a whole number of days from 1 to {maxDays}");
            }
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var token = ChatAccess.TokenPrefix + KeyMaterial.NewVirtualKey()[KeyMaterial.VirtualKeyPrefix.Length..];
        var now = time.GetUtcNow();
        var share = new ChatShare(KeyMaterial.NewId("share"), app!.Id, app.WorkspaceId, label, KeyMaterial.Hash(token), token[..10] + "…", caller!.Actor,
            now, now.AddDays(days), null);
        await store.CreateShareAsync(share, ctx.RequestAborted);
        await audit.RecordAsync(new AuditEntry(caller.Actor, "app.share_created", "app", app.Id, app.WorkspaceId,
            JsonSerializer.SerializeToNode(new { share = share.Id, name = label, expiresAt = share.ExpiresAt }) as JsonObject));
        // The token goes in the URL's fragment: browsers never send a fragment to the server, nor in a Referer.
        return TypedResults.Created($"/api/apps/{app.Id}/shares/{share.Id}", new
        {
            id = share.Id, token, url = $"/chat/{Uri.EscapeDataString(app.Slug)}#share={token}", name = label, expiresAt = share.ExpiresAt,
        });
    }

    private static async Task<IResult> ListAsync(string id, HttpContext ctx, IChatStore store)
    {
        var (app, _, problem) = await ManagedAsync(id, ctx);
        return problem ?? TypedResults.Ok(new { shares = (await store.SharesAsync(app!.Id, ctx.RequestAborted)).Select(ShareView.From) });
    }

    private static async Task<IResult> RevokeAsync(string id, string shareId, HttpContext ctx, IChatStore store, AuditLog audit, TimeProvider time)
    {
        var (app, caller, problem) = await ManagedAsync(id, ctx);
        if (problem is not null)
        {
            return problem;
        }
        if (shareId.Length > 64 || !await store.RevokeShareAsync(app!.Id, shareId, time.GetUtcNow(), ctx.RequestAborted))
        {
            return TypedResults.Problem(statusCode: 404, detail: "No active share link with that id for this app.");
        }
        await audit.RecordAsync(new AuditEntry(caller!.Actor, "app.share_revoked", "app", app.Id, app.WorkspaceId,
            JsonSerializer.SerializeToNode(new { share = shareId }) as JsonObject));
        return TypedResults.NoContent();
    }
}
