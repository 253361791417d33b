using System.Text.Json.Serialization;

namespace Mulan.Access;

/// <summary>A user's role in one workspace; each includes everything the ones below it may do.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WorkspaceRole>))]
public enum WorkspaceRole
{
    /// <summary>Reads the workspace: knowledge bases, apps, runs, evaluations, pilots, usage, audit.</summary>
    [JsonStringEnumMemberName("viewer")] Viewer = 1,
    /// <summary>Uses it: asks, searches, uploads documents, starts runs, gives feedback, logs pilot effort.</summary>
    [JsonStringEnumMemberName("member")] Member = 2,
    /// <summary>Configures it: knowledge bases, apps and publishing, keys, tools, approvals, compliance, pilots.</summary>
    [JsonStringEnumMemberName("admin")] Admin = 3,
    /// <summary>Also manages the workspace's people and their roles.</summary>
    [JsonStringEnumMemberName("owner")] Owner = 4,
}

public static class WorkspaceRoles
{
    public static string Name(WorkspaceRole role) => role switch
    {
        WorkspaceRole.Viewer => "viewer",
        WorkspaceRole.Member => "member",
        WorkspaceRole.Admin => "admin",
        WorkspaceRole.Owner => "owner",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static WorkspaceRole? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "viewer" => WorkspaceRole.Viewer,
        "member" => WorkspaceRole.Member,
        "admin" => WorkspaceRole.Admin,
        "owner" => WorkspaceRole.Owner,
        _ => null,
    };
}
