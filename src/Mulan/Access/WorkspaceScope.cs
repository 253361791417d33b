namespace Mulan.Access;

/// <summary>
/// Routes under <c>/api/workspaces/{workspace}/</c> that the administrator and the workspace's own virtual keys may
/// read. A key of another workspace gets 404, as if the workspace did not exist: it learns nothing about it.
/// </summary>
public static class WorkspaceScope
{
    private const string ItemKey = "mulan.workspace.scope";

    /// <summary>The workspace the request is scoped to (resolved from the route's id or name).</summary>
    public static Workspace Of(HttpContext ctx) => (Workspace)ctx.Items[ItemKey]!;

    public static RouteGroupBuilder MapWorkspaceScope(this IEndpointRouteBuilder app) =>
        app.MapGroup("/api/workspaces/{workspace}").AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var presented = BearerToken.Of(http.Request);
            var isAdmin = http.RequestServices.GetRequiredService<AdminKey>().Matches(presented);
            var key = isAdmin ? null : http.RequestServices.GetRequiredService<AccessService>().Authenticate(presented);
            if (!isAdmin && key is null)
            {
                return Results.Problem(statusCode: 401, title: "Unauthorized",
                    detail: "Pass the administrator key or a virtual key of this workspace as 'Authorization: Bearer <key>'.");
            }
            var named = http.GetRouteValue("workspace") as string ?? "";
            var workspace = await http.RequestServices.GetRequiredService<IAccessStore>().FindWorkspaceAsync(named, http.RequestAborted);
            if (workspace is null || (key is not null && key.WorkspaceId != workspace.Id))
            {
                return Results.Problem(statusCode: 404, title: "Not Found", detail: $"No workspace '{named}'.");
            }
            http.Items[ItemKey] = workspace;
            return await next(context);
        });
}
