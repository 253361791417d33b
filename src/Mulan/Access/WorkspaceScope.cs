namespace Mulan.Access;

/// <summary>
/// Routes under <c>/api/workspaces/{workspace}/</c> that administrators, the workspace's members and its own virtual keys
/// may read. A key or user of another workspace gets 404, as if the workspace did not exist: it learns nothing about it.
/// </summary>
public static class WorkspaceScope
{
    private const string ItemKey = "mulan.workspace.scope";

    /// <summary>The workspace the request is scoped to (resolved from the route's id or name).</summary>
    public static Workspace Of(HttpContext ctx) => (Workspace)ctx.Items[ItemKey]!;

    public static RouteGroupBuilder MapWorkspaceScope(this IEndpointRouteBuilder app) =>
        app.MapGroup("/api/workspaces/{workspace}").RequireAccess(WorkspaceRole.Viewer).AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var caller = await CallerGate.ResolveAsync(http);
            if (caller is null)
            {
                return Results.Problem(statusCode: 401, title: "Unauthorized",
                    detail: "Pass the administrator key or a virtual key of this workspace as 'Authorization: Bearer <key>'.");
            }
            var named = http.GetRouteValue("workspace") as string ?? "";
            var workspace = await http.RequestServices.GetRequiredService<IAccessStore>().FindWorkspaceAsync(named, http.RequestAborted);
            // The resolver already chose the route's workspace as a user's current one, when they belong to it.
            if (workspace is null || (!caller.IsAdmin && caller.WorkspaceId != workspace.Id))
            {
                return Results.Problem(statusCode: 404, title: "Not Found", detail: $"No workspace '{named}'.");
            }
            Caller.Set(http, caller);
            http.Items[ItemKey] = workspace;
            return await next(context);
        });
}
