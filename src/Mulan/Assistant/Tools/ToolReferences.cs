namespace Mulan.Assistant.Tools;

/// <summary>What uses a tool source (by <see cref="Key"/>): apps that name it; deleting one in use is refused with 409.</summary>
public sealed class ToolReferences : Hosting.References
{
    /// <summary>The target a finder is asked about: the source's workspace and name (apps name sources by name).</summary>
    public static string Key(string workspaceId, string name) => $"{workspaceId}/{name}";

    /// <summary>Finds the apps whose published or latest definition names the tool source.</summary>
    public static Func<string, CancellationToken, Task<IReadOnlyList<string>>> AppsUsing(Apps.IAppStore apps) => async (key, ct) =>
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var (workspaceId, name) = (key[..slash], key[(slash + 1)..]);
        var users = new List<string>();
        foreach (var app in await apps.ListAsync(workspaceId, ct))
        {
            foreach (var version in new[] { app.LatestVersion, app.PublishedVersion }.OfType<int>().Distinct())
            {
                if (await apps.VersionAsync(app.Id, version, ct) is { } v
                    && System.Text.Json.JsonSerializer.Deserialize<Apps.AppDefinition>(v.Definition, Apps.AppDefinition.Json)?.Tools?.Contains(name) == true)
                {
                    users.Add($"app {app.Slug}");
                    break;
                }
            }
        }
        return users;
    };
}
