using System.Globalization;
using System.Text.Json;
using Dapper;
using Mulan.Access;

namespace Mulan.Storage;

/// <summary>Workspaces, keys and settings on SQLite or PostgreSQL. Workspace names compare without regard to (ASCII) case on both.</summary>
public sealed class AccessStore(IStorageDatabase db) : IAccessStore
{
    public async Task<Workspace?> FindWorkspaceAsync(string idOrName, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<WorkspaceRow>(
            $"SELECT {WorkspaceColumns} FROM workspaces WHERE (id = @v OR lower(name) = lower(@v)) AND deleted_at IS NULL LIMIT 1", new { v = idOrName });
        return row?.ToModel();
    }

    public async Task<Workspace?> FindWorkspaceIncludingDeletedAsync(string idOrName, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        // A live workspace of that name comes first: a name freed by a deletion belongs to whoever took it next.
        var row = await c.QuerySingleOrDefaultAsync<WorkspaceRow>(
            $"SELECT {WorkspaceColumns} FROM workspaces WHERE id = @v OR lower(name) = lower(@v) ORDER BY deleted_at IS NOT NULL LIMIT 1", new { v = idOrName });
        return row?.ToModel();
    }

    public async Task<bool> TryRenameWorkspaceAsync(string id, string name, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        try
        {
            return await c.ExecuteAsync("UPDATE workspaces SET name = @name WHERE id = @id AND deleted_at IS NULL", new { id, name }) == 1;
        }
        catch (System.Data.Common.DbException e) when (db.IsConstraintViolation(e)) // the name is taken
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<VirtualKey>> DeleteWorkspaceAsync(string id, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var revoked = (await c.QueryAsync<KeyRow>(KeyRow.Select + " WHERE workspace_id = @id AND revoked_at IS NULL", new { id }, tx)).ToList();
        var ms = at.ToUnixTimeMilliseconds();
        await c.ExecuteAsync("UPDATE virtual_keys SET revoked_at = @ms WHERE workspace_id = @id AND revoked_at IS NULL", new { id, ms }, tx);
        // The id keeps the row unique; the name is freed for a new workspace.
        await c.ExecuteAsync("UPDATE workspaces SET deleted_at = @ms, name = name || ' (deleted ' || id || ')' WHERE id = @id AND deleted_at IS NULL",
            new { id, ms }, tx);
        await tx.CommitAsync(ct);
        return [.. revoked.Select(r => r.ToModel() with { RevokedAt = at })];
    }

    public async Task<IReadOnlyList<Workspace>> ListWorkspacesAsync(CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<WorkspaceRow>($"SELECT {WorkspaceColumns} FROM workspaces WHERE deleted_at IS NULL ORDER BY created_at, id");
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<bool> TryCreateWorkspaceAsync(Workspace workspace, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var n = await c.ExecuteAsync(
            """
            INSERT INTO workspaces (id, name, created_at, budget_amount, budget_currency, budget_period, rpm, tpm, local_only)
            VALUES (@Id, @Name, @At, @BudgetAmount, @BudgetCurrency, @BudgetPeriod, @Rpm, @Tpm, @LocalOnly) ON CONFLICT DO NOTHING
            """,
            new
            {
                workspace.Id, workspace.Name, At = workspace.CreatedAt.ToUnixTimeMilliseconds(),
                BudgetAmount = workspace.Budget?.Amount.ToString(CultureInfo.InvariantCulture), BudgetCurrency = workspace.Budget?.Currency,
                BudgetPeriod = workspace.Budget?.Period.ToString(), workspace.Rpm, workspace.Tpm, LocalOnly = workspace.LocalOnly ? 1 : 0,
            });
        return n == 1;
    }

    public async Task SetWorkspaceLimitsAsync(string id, KeyBudget? budget, int? rpm, int? tpm, bool localOnly, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(
            """
            UPDATE workspaces SET budget_amount = @BudgetAmount, budget_currency = @BudgetCurrency, budget_period = @BudgetPeriod,
              rpm = @Rpm, tpm = @Tpm, local_only = @LocalOnly WHERE id = @Id
            """,
            new
            {
                Id = id, BudgetAmount = budget?.Amount.ToString(CultureInfo.InvariantCulture), BudgetCurrency = budget?.Currency,
                BudgetPeriod = budget?.Period.ToString(), Rpm = rpm, Tpm = tpm, LocalOnly = localOnly ? 1 : 0,
            });
    }

    public async Task SetWorkspacePiiAsync(string id, PiiSettings? pii, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("UPDATE workspaces SET pii = @Pii WHERE id = @Id", new { Id = id, Pii = pii is null ? null : JsonSerializer.Serialize(pii) });
    }

    private const string WorkspaceColumns = """
        id AS Id, name AS Name, created_at AS CreatedAt, budget_amount AS BudgetAmount, budget_currency AS BudgetCurrency,
        budget_period AS BudgetPeriod, rpm AS Rpm, tpm AS Tpm, local_only AS LocalOnly, pii AS Pii, deleted_at AS DeletedAt
        """;

    public async Task CreateKeyAsync(VirtualKey key, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO virtual_keys (id, workspace_id, name, key_hash, display_prefix, models, budget_amount, budget_currency,
              budget_period, rpm, tpm, expires_at, revoked_at, created_at, local_only)
            VALUES (@Id, @WorkspaceId, @Name, @KeyHash, @DisplayPrefix, @Models, @BudgetAmount, @BudgetCurrency,
              @BudgetPeriod, @Rpm, @Tpm, @ExpiresAt, NULL, @CreatedAt, @LocalOnly)
            """,
            new
            {
                key.Id, key.WorkspaceId, key.Name, key.KeyHash, key.DisplayPrefix,
                Models = key.Models is null ? null : JsonSerializer.Serialize(key.Models),
                BudgetAmount = key.Budget?.Amount.ToString(CultureInfo.InvariantCulture),
                BudgetCurrency = key.Budget?.Currency,
                BudgetPeriod = key.Budget?.Period.ToString(),
                key.Rpm, key.Tpm, LocalOnly = key.LocalOnly ? 1 : 0,
                ExpiresAt = key.ExpiresAt?.ToUnixTimeMilliseconds(),
                CreatedAt = key.CreatedAt.ToUnixTimeMilliseconds(),
            });
    }

    public async Task<IReadOnlyList<VirtualKey>> ListKeysAsync(string? workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<KeyRow>(KeyRow.Select + " WHERE (@w IS NULL OR workspace_id = @w) ORDER BY created_at, id", new { w = workspaceId });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<VirtualKey?> FindKeyAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<KeyRow>(KeyRow.Select + " WHERE id = @id", new { id }))?.ToModel();
    }

    public async Task<bool> UpdateKeyAsync(VirtualKey key, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var n = await c.ExecuteAsync(
            """
            UPDATE virtual_keys SET name = @Name, models = @Models, budget_amount = @BudgetAmount, budget_currency = @BudgetCurrency,
              budget_period = @BudgetPeriod, rpm = @Rpm, tpm = @Tpm, expires_at = @ExpiresAt, local_only = @LocalOnly
            WHERE id = @Id AND revoked_at IS NULL
            """,
            new
            {
                key.Id, key.Name,
                Models = key.Models is null ? null : JsonSerializer.Serialize(key.Models),
                BudgetAmount = key.Budget?.Amount.ToString(CultureInfo.InvariantCulture),
                BudgetCurrency = key.Budget?.Currency,
                BudgetPeriod = key.Budget?.Period.ToString(),
                key.Rpm, key.Tpm, LocalOnly = key.LocalOnly ? 1 : 0,
                ExpiresAt = key.ExpiresAt?.ToUnixTimeMilliseconds(),
            });
        return n == 1;
    }

    public async Task<bool> RotateKeyAsync(string id, string keyHash, string displayPrefix, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("UPDATE virtual_keys SET key_hash = @keyHash, display_prefix = @displayPrefix WHERE id = @id AND revoked_at IS NULL",
            new { id, keyHash, displayPrefix }) == 1;
    }

    public async Task<IReadOnlyList<VirtualKey>> LoadActiveKeysAsync(CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<KeyRow>(KeyRow.Select + " WHERE revoked_at IS NULL");
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<VirtualKey?> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("UPDATE virtual_keys SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL",
            new { id, at = at.ToUnixTimeMilliseconds() });
        var row = await c.QuerySingleOrDefaultAsync<KeyRow>(KeyRow.Select + " WHERE id = @id", new { id });
        return row?.ToModel();
    }

    public async Task<string?> GetSettingAsync(string key, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<string>("SELECT value FROM settings WHERE key = @key", new { key });
    }

    public async Task SetSettingAsync(string key, string value, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("INSERT INTO settings (key, value) VALUES (@key, @value) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            new { key, value });
    }

    private sealed class WorkspaceRow
    {
        public string Id { get; init; } = "";
        public string Name { get; init; } = "";
        public long CreatedAt { get; init; }
        public string? BudgetAmount { get; init; }
        public string? BudgetCurrency { get; init; }
        public string? BudgetPeriod { get; init; }
        public long? Rpm { get; init; }
        public long? Tpm { get; init; }
        public long LocalOnly { get; init; }
        public string? Pii { get; init; }
        public long? DeletedAt { get; init; }

        public Workspace ToModel() => new(Id, Name, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt))
        {
            Budget = BudgetAmount is null ? null : new KeyBudget(decimal.Parse(BudgetAmount, CultureInfo.InvariantCulture), BudgetCurrency!, Enum.Parse<BudgetPeriod>(BudgetPeriod!)),
            Rpm = (int?)Rpm,
            Tpm = (int?)Tpm,
            LocalOnly = LocalOnly != 0,
            Pii = Pii is null ? null : JsonSerializer.Deserialize<PiiSettings>(Pii),
            DeletedAt = DeletedAt is { } d ? DateTimeOffset.FromUnixTimeMilliseconds(d) : null,
        };
    }

    private sealed class KeyRow
    {
        public const string Select = """
            SELECT id AS Id, workspace_id AS WorkspaceId, name AS Name, key_hash AS KeyHash, display_prefix AS DisplayPrefix,
              models AS Models, budget_amount AS BudgetAmount, budget_currency AS BudgetCurrency, budget_period AS BudgetPeriod,
              rpm AS Rpm, tpm AS Tpm, expires_at AS ExpiresAt, revoked_at AS RevokedAt, created_at AS CreatedAt, local_only AS LocalOnly
            FROM virtual_keys
            """;

        public string Id { get; init; } = "";
        public string WorkspaceId { get; init; } = "";
        public string Name { get; init; } = "";
        public string KeyHash { get; init; } = "";
        public string DisplayPrefix { get; init; } = "";
        public string? Models { get; init; }
        public string? BudgetAmount { get; init; }
        public string? BudgetCurrency { get; init; }
        public string? BudgetPeriod { get; init; }
        public long? Rpm { get; init; }
        public long? Tpm { get; init; }
        public long? ExpiresAt { get; init; }
        public long? RevokedAt { get; init; }
        public long CreatedAt { get; init; }
        public long LocalOnly { get; init; }

        public VirtualKey ToModel() => new(
            Id, WorkspaceId, Name, KeyHash, DisplayPrefix,
            Models is null ? null : JsonSerializer.Deserialize<string[]>(Models),
            BudgetAmount is null ? null : new KeyBudget(decimal.Parse(BudgetAmount, CultureInfo.InvariantCulture), BudgetCurrency!, Enum.Parse<BudgetPeriod>(BudgetPeriod!)),
            (int?)Rpm, (int?)Tpm,
            ExpiresAt is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e) : null,
            RevokedAt is { } r ? DateTimeOffset.FromUnixTimeMilliseconds(r) : null,
            DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt)) { LocalOnly = LocalOnly != 0 };
    }
}
