namespace Mulan.Access;

/// <summary>Workspace and key lifecycle. Every change to keys is followed by a key-ring reload under one gate,
/// so two concurrent changes can never leave the in-memory ring older than the database.</summary>
public sealed class AccessService(IAccessStore store, KeyRing ring, TimeProvider time, Cluster.ClusterNotices notices)
{
    public const string DefaultWorkspaceName = "default";
    private readonly SemaphoreSlim _gate = new(1, 1);
    // Read on every /v1 request (its workspace's limits): a snapshot replaced whole after each change.
    private IReadOnlyDictionary<string, Workspace> _workspaces = new Dictionary<string, Workspace>();

    public async Task InitializeAsync(CancellationToken ct)
    {
        if (await store.FindWorkspaceAsync(DefaultWorkspaceName, ct) is null)
        {
            await store.TryCreateWorkspaceAsync(new Workspace(KeyMaterial.NewId("ws"), DefaultWorkspaceName, time.GetUtcNow()), ct);
        }
        ring.Replace(await store.LoadActiveKeysAsync(ct));
        await LoadWorkspacesAsync(ct);
        notices.OnChange(Cluster.ClusterTopics.Access, RefreshAsync);
    }

    /// <summary>Reloads keys and workspaces from the database: another node changed them.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            ring.Replace(await store.LoadActiveKeysAsync(ct));
            await LoadWorkspacesAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    // After a change made here: this node's ring, then the other nodes'.
    private async Task ReloadKeysAsync(CancellationToken ct)
    {
        ring.Replace(await store.LoadActiveKeysAsync(ct));
        await notices.PublishAsync(Cluster.ClusterTopics.Access);
    }

    /// <summary>The workspace as last loaded (its limits included), or null.</summary>
    public Workspace? WorkspaceOf(string id) => Volatile.Read(ref _workspaces).GetValueOrDefault(id);

    public async Task<Workspace?> CreateWorkspaceAsync(string name, KeyBudget? budget, int? rpm, int? tpm, bool localOnly, CancellationToken ct)
    {
        var workspace = new Workspace(KeyMaterial.NewId("ws"), name, time.GetUtcNow()) { Budget = budget, Rpm = rpm, Tpm = tpm, LocalOnly = localOnly };
        if (!await store.TryCreateWorkspaceAsync(workspace, ct))
        {
            return null;
        }
        await ReloadWorkspacesAsync(ct);
        return workspace;
    }

    /// <returns>the workspace before and after, or null when there is no such workspace.</returns>
    public async Task<(Workspace Before, Workspace After)?> SetLimitsAsync(string idOrName, KeyBudget? budget, int? rpm, int? tpm, bool localOnly,
        CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (await store.FindWorkspaceAsync(idOrName, ct) is not { } before)
            {
                return null;
            }
            await store.SetWorkspaceLimitsAsync(before.Id, budget, rpm, tpm, localOnly, ct);
            await ReloadWorkspacesAsync(ct);
            return (before, before with { Budget = budget, Rpm = rpm, Tpm = tpm, LocalOnly = localOnly });
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ReloadWorkspacesAsync(CancellationToken ct)
    {
        await LoadWorkspacesAsync(ct);
        await notices.PublishAsync(Cluster.ClusterTopics.Access);
    }

    // Policies were checked when set, so compiling them again cannot fail.
    private async Task LoadWorkspacesAsync(CancellationToken ct) =>
        Volatile.Write(ref _workspaces, (await store.ListWorkspacesAsync(ct))
            .Select(w => w.Pii is { } pii ? w with { PiiPolicy = pii.Compile() } : w)
            .ToDictionary(w => w.Id, StringComparer.Ordinal));

    /// <returns>the workspace before and after, or null when there is no such workspace.</returns>
    public async Task<(Workspace Before, Workspace After)?> SetPiiAsync(string idOrName, PiiSettings? pii, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (await store.FindWorkspaceAsync(idOrName, ct) is not { } before)
            {
                return null;
            }
            await store.SetWorkspacePiiAsync(before.Id, pii, ct);
            await ReloadWorkspacesAsync(ct);
            return (before, before with { Pii = pii });
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <returns>the stored key and the full secret, which is never available again; null when the workspace was deleted meanwhile.</returns>
    public async Task<(VirtualKey Key, string Secret)?> CreateKeyAsync(
        Workspace workspace, string name, IReadOnlyList<string>? models, KeyBudget? budget, int? rpm, int? tpm,
        DateTimeOffset? expiresAt, bool localOnly, CancellationToken ct)
    {
        var secret = KeyMaterial.NewVirtualKey();
        var key = new VirtualKey(KeyMaterial.NewId("key"), workspace.Id, name, KeyMaterial.Hash(secret),
            KeyMaterial.DisplayPrefix(secret), models, budget, rpm, tpm, expiresAt, null, time.GetUtcNow()) { LocalOnly = localOnly };
        await _gate.WaitAsync(ct);
        try
        {
            // Deletion holds the same gate: checked here, no key can slip into a workspace being deleted.
            if (await store.FindWorkspaceAsync(workspace.Id, ct) is null)
            {
                return null;
            }
            await store.CreateKeyAsync(key, ct);
            await ReloadKeysAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
        return (key, secret);
    }

    /// <returns>the key and whether this call revoked it (false when it already was revoked); null when no such key exists.</returns>
    public async Task<(VirtualKey Key, bool Changed)?> RevokeKeyAsync(string id, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var revoked = await store.RevokeKeyAsync(id, time.GetUtcNow(), ct);
            if (revoked is null)
            {
                return null;
            }
            // Under the gate the ring matches the database as it was before this call: a key still in it was active.
            var changed = ring.Find(revoked.KeyHash) is not null;
            await ReloadKeysAsync(ct);
            return (revoked, changed);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stores a key's new settings; the gateway uses them from the next request on.</summary>
    /// <returns>false when the key was revoked meanwhile (nothing changed).</returns>
    public Task<bool> UpdateKeyAsync(VirtualKey updated, CancellationToken ct) => ChangeKeysAsync(() => store.UpdateKeyAsync(updated, ct), ct);

    /// <summary>Gives an active key a new secret; the old one stops working at once. Id, settings, usage and budget spend stay,
    /// since they all hang on the id.</summary>
    /// <returns>the new secret, never available again; null when the key does not exist or is revoked.</returns>
    public async Task<string?> RotateKeyAsync(string id, CancellationToken ct)
    {
        var secret = KeyMaterial.NewVirtualKey();
        return await ChangeKeysAsync(() => store.RotateKeyAsync(id, KeyMaterial.Hash(secret), KeyMaterial.DisplayPrefix(secret), ct), ct) ? secret : null;
    }

    /// <returns>false when another workspace has the name.</returns>
    public async Task<bool> RenameWorkspaceAsync(Workspace workspace, string name, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (!await store.TryRenameWorkspaceAsync(workspace.Id, name, ct))
            {
                return false;
            }
            await ReloadWorkspacesAsync(ct);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Revokes the workspace's keys (at once, on the gateway too) and marks it deleted. Its usage records stay.</summary>
    /// <returns>the keys this call revoked.</returns>
    public async Task<IReadOnlyList<VirtualKey>> DeleteWorkspaceAsync(Workspace workspace, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var revoked = await store.DeleteWorkspaceAsync(workspace.Id, time.GetUtcNow(), ct);
            await ReloadKeysAsync(ct);
            await ReloadWorkspacesAsync(ct);
            return revoked;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<bool> ChangeKeysAsync(Func<Task<bool>> change, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var changed = await change();
            if (changed)
            {
                await ReloadKeysAsync(ct);
            }
            return changed;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Resolves a presented bearer secret to a usable key, or null (unknown, revoked or expired).</summary>
    public VirtualKey? Authenticate(string? presented)
    {
        if (string.IsNullOrEmpty(presented) || !presented.StartsWith(KeyMaterial.VirtualKeyPrefix, StringComparison.Ordinal) || presented.Length > 200)
        {
            return null;
        }
        var key = ring.Find(KeyMaterial.Hash(presented));
        if (key is null || (key.ExpiresAt is { } expires && expires <= time.GetUtcNow()))
        {
            return null;
        }
        return key;
    }
}
