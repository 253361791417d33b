namespace Mulan.Access;

/// <summary>Storage seam for workspaces, virtual keys and settings (SQLite now, PostgreSQL later).</summary>
public interface IAccessStore
{
    /// <summary>A live workspace by id or name (deleted ones are not found).</summary>
    Task<Workspace?> FindWorkspaceAsync(string idOrName, CancellationToken ct);
    /// <summary>The same, deleted workspaces included (by id): accounting still reads their usage.</summary>
    Task<Workspace?> FindWorkspaceIncludingDeletedAsync(string idOrName, CancellationToken ct);
    /// <summary>Live workspaces.</summary>
    Task<IReadOnlyList<Workspace>> ListWorkspacesAsync(CancellationToken ct);
    /// <returns>false when another workspace has the name.</returns>
    Task<bool> TryRenameWorkspaceAsync(string id, string name, CancellationToken ct);
    /// <summary>Revokes the workspace's active keys and marks it deleted, freeing its name, in one transaction.</summary>
    /// <returns>the keys this call revoked.</returns>
    Task<IReadOnlyList<VirtualKey>> DeleteWorkspaceAsync(string id, DateTimeOffset at, CancellationToken ct);
    /// <returns>false when the name is taken.</returns>
    Task<bool> TryCreateWorkspaceAsync(Workspace workspace, CancellationToken ct);
    /// <summary>Replaces a workspace's budget and rate limits (null: none).</summary>
    Task SetWorkspacePiiAsync(string id, PiiSettings? pii, CancellationToken ct);
    Task SetWorkspaceLimitsAsync(string id, KeyBudget? budget, int? rpm, int? tpm, bool localOnly, CancellationToken ct);

    Task CreateKeyAsync(VirtualKey key, CancellationToken ct);
    Task<IReadOnlyList<VirtualKey>> ListKeysAsync(string? workspaceId, CancellationToken ct);
    Task<VirtualKey?> FindKeyAsync(string id, CancellationToken ct);
    /// <summary>Replaces a key's settings (name, models, budget, limits, expiry, residency); its secret stays.</summary>
    /// <returns>false when the key does not exist or is revoked.</returns>
    Task<bool> UpdateKeyAsync(VirtualKey key, CancellationToken ct);
    /// <summary>Replaces the hash and display prefix of an active key; id, settings and usage stay.</summary>
    /// <returns>false when the key does not exist or is revoked.</returns>
    Task<bool> RotateKeyAsync(string id, string keyHash, string displayPrefix, CancellationToken ct);
    /// <summary>All keys that are not revoked (expiry is checked per request).</summary>
    Task<IReadOnlyList<VirtualKey>> LoadActiveKeysAsync(CancellationToken ct);
    /// <returns>the revoked key, or null when no such key exists.</returns>
    Task<VirtualKey?> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken ct);

    Task<string?> GetSettingAsync(string key, CancellationToken ct);
    Task SetSettingAsync(string key, string value, CancellationToken ct);
}
