namespace Mulan.Access;

/// <summary>Storage seam for workspaces, virtual keys and settings (SQLite now, PostgreSQL later).</summary>
public interface IAccessStore
{
    Task<Workspace?> FindWorkspaceAsync(string idOrName, CancellationToken ct);
    Task<IReadOnlyList<Workspace>> ListWorkspacesAsync(CancellationToken ct);
    /// <returns>false when the name is taken.</returns>
    Task<bool> TryCreateWorkspaceAsync(Workspace workspace, CancellationToken ct);
    /// <summary>Replaces a workspace's budget and rate limits (null: none).</summary>
    Task SetWorkspacePiiAsync(string id, PiiSettings? pii, CancellationToken ct);
    Task SetWorkspaceLimitsAsync(string id, KeyBudget? budget, int? rpm, int? tpm, bool localOnly, CancellationToken ct);

    Task CreateKeyAsync(VirtualKey key, CancellationToken ct);
    Task<IReadOnlyList<VirtualKey>> ListKeysAsync(string? workspaceId, CancellationToken ct);
    /// <summary>All keys that are not revoked (expiry is checked per request).</summary>
    Task<IReadOnlyList<VirtualKey>> LoadActiveKeysAsync(CancellationToken ct);
    /// <returns>the revoked key, or null when no such key exists.</returns>
    Task<VirtualKey?> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken ct);

    Task<string?> GetSettingAsync(string key, CancellationToken ct);
    Task SetSettingAsync(string key, string value, CancellationToken ct);
}
