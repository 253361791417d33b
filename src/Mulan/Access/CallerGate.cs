using Mulan.People;

namespace Mulan.Access;

/// <summary>What the route filters share: the request's caller (resolved once) and the answers for a user without a workspace.</summary>
public static class CallerGate
{
    public static ValueTask<Caller?> ResolveAsync(HttpContext http) =>
        http.RequestServices.GetRequiredService<CallerResolver>().ResolveAsync(http);

    /// <summary>A user whose request names no workspace of theirs: 404 when it named one (theirs or not, it is not
    /// told apart), 403 when they belong to none, else 400 asking them to choose.</summary>
    public static IResult NoWorkspace(HttpContext http, Caller caller)
    {
        var named = http.GetRouteValue("workspace") as string ?? http.Request.Headers[CallerResolver.WorkspaceHeader].ToString();
        if (!string.IsNullOrWhiteSpace(named))
        {
            return Results.Problem(statusCode: 404, title: "Not Found", detail: $"No workspace '{Cut(named)}'.");
        }
        return caller.Memberships.Count == 0
            ? Results.Problem(statusCode: 403, title: "Forbidden", detail: "You are not a member of any workspace.")
            : Results.Problem(statusCode: 400, title: "Bad Request",
                detail: $"You belong to several workspaces: name one with the '{CallerResolver.WorkspaceHeader}' header (id or name).",
                extensions: new Dictionary<string, object?> { ["code"] = "workspace_required" });
    }

    private static string Cut(string s) => s.Length > 64 ? s[..64] + "…" : s;
}
