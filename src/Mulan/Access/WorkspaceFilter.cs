namespace Mulan.Access;

/// <summary>The <c>workspace</c> query filter of the /api listings (usage, audit): an id or a name.</summary>
public static class WorkspaceFilter
{
    /// <returns>the workspace id, or null when no filter was given or it names no workspace (then <paramref name="errors"/> says so).</returns>
    public static async Task<string?> ResolveAsync(this IAccessStore access, string? workspace, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        if (workspace is null)
        {
            return null;
        }
        var id = (await access.FindWorkspaceAsync(workspace, ct))?.Id;
        if (id is null)
        {
            errors["workspace"] = [$"no workspace '{workspace}'"];
        }
        return id;
    }
}
