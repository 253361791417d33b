namespace Mulan.Access;

/// <summary>The <c>workspace</c> query filter of the /api listings (usage, audit, keys): an id or a name. A deleted
/// workspace is still found (by its id), so its usage stays readable for accounting.</summary>
public static class WorkspaceFilter
{
    /// <returns>the workspace id, or null when no filter was given or it names no workspace (then <paramref name="errors"/> says so).</returns>
    public static async Task<string?> ResolveAsync(this IAccessStore access, string? workspace, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        if (workspace is null)
        {
            return null;
        }
        var id = (await access.FindWorkspaceIncludingDeletedAsync(workspace, ct))?.Id;
        if (id is null)
        {
            errors["workspace"] = [$"no workspace '{workspace}'"];
        }
        return id;
    }
}
