using System.Globalization;
using System.Text.Json;
using Dapper;
using Mulan.Pilots;

namespace Mulan.Storage;

/// <summary>Pilots as JSON documents; the frozen flag is a column so that a direct scope write can be refused atomically.</summary>
/// <remarks>The same SQL on SQLite and PostgreSQL: one store over either database.</remarks>
public sealed class PilotStore(IStorageDatabase db) : IPilotStore
{
    private static string Ser<T>(T value) => JsonSerializer.Serialize(value, PilotJson.Options);
    private static T De<T>(string json) => JsonSerializer.Deserialize<T>(json, PilotJson.Options)!;

    public async Task CreateAsync(Pilot pilot, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("INSERT INTO pilots (id, workspace_id, data, frozen_at, created_at) VALUES (@Id, @WorkspaceId, @Data, NULL, @At)",
            new { pilot.Id, pilot.WorkspaceId, Data = Ser(pilot), At = pilot.CreatedAt.ToUnixTimeMilliseconds() });
    }

    public async Task<Pilot?> FindAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var data = await c.QuerySingleOrDefaultAsync<string>("SELECT data FROM pilots WHERE id = @id", new { id });
        return data is null ? null : De<Pilot>(data);
    }

    public async Task<IReadOnlyList<Pilot>> ListAsync(string? workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<string>("SELECT data FROM pilots WHERE (@workspaceId IS NULL OR workspace_id = @workspaceId) ORDER BY created_at, id",
            new { workspaceId });
        return [.. rows.Select(De<Pilot>)];
    }

    public async Task UpdateAsync(Pilot pilot, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("UPDATE pilots SET data = @Data WHERE id = @Id", new { pilot.Id, Data = Ser(pilot) });
    }

    public async Task<IReadOnlyList<ScopeItem>> ScopeAsync(string pilotId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return [.. (await c.QueryAsync<string>("SELECT data FROM pilot_scope WHERE pilot_id = @pilotId ORDER BY seq, id", new { pilotId })).Select(De<ScopeItem>)];
    }

    private const string Upsert = """
        INSERT INTO pilot_scope (id, pilot_id, seq, data)
        SELECT @Id, @PilotId, COALESCE((SELECT MAX(seq) FROM pilot_scope WHERE pilot_id = @PilotId), 0) + 1, @Data
        WHERE EXISTS (SELECT 1 FROM pilots WHERE id = @PilotId {0})
        ON CONFLICT(id) DO UPDATE SET data = excluded.data
        """;

    public async Task<bool> PutScopeUnfrozenAsync(string pilotId, ScopeItem item, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync(string.Format(CultureInfo.InvariantCulture, Upsert, "AND frozen_at IS NULL"),
            new { item.Id, PilotId = pilotId, Data = Ser(item) }) == 1;
    }

    public async Task<bool?> DeleteScopeUnfrozenAsync(string pilotId, string itemId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var frozen = await c.ExecuteScalarAsync<long?>("SELECT frozen_at FROM pilots WHERE id = @pilotId", new { pilotId }, tx);
        if (frozen is not null)
        {
            return null;
        }
        var deleted = await c.ExecuteAsync("DELETE FROM pilot_scope WHERE id = @itemId AND pilot_id = @pilotId", new { itemId, pilotId }, tx) == 1;
        await tx.CommitAsync(ct);
        return deleted;
    }

    public async Task<bool> FreezeAsync(Pilot frozen, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("UPDATE pilots SET data = @Data, frozen_at = @At WHERE id = @Id AND frozen_at IS NULL",
            new { frozen.Id, Data = Ser(frozen), At = frozen.FrozenAt!.Value.ToUnixTimeMilliseconds() }) == 1;
    }

    public async Task AddChangeAsync(ChangeRequest change, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("INSERT INTO pilot_changes (id, pilot_id, status, data, created_at) VALUES (@Id, @PilotId, @Status, @Data, @At)",
            new { change.Id, change.PilotId, change.Status, Data = Ser(change), At = change.CreatedAt.ToUnixTimeMilliseconds() });
    }

    public async Task<IReadOnlyList<ChangeRequest>> ChangesAsync(string pilotId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return [.. (await c.QueryAsync<string>("SELECT data FROM pilot_changes WHERE pilot_id = @pilotId ORDER BY created_at, id", new { pilotId }))
            .Select(De<ChangeRequest>)];
    }

    public async Task<bool> DecideAsync(ChangeRequest decided, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (await c.ExecuteAsync("UPDATE pilot_changes SET status = @Status, data = @Data WHERE id = @Id AND status = 'pending'",
                new { decided.Id, decided.Status, Data = Ser(decided) }, tx) != 1)
        {
            return false;
        }
        if (decided.Status == ChangeStatuses.Approved)
        {
            if (decided.Kind == "remove")
            {
                await c.ExecuteAsync("DELETE FROM pilot_scope WHERE id = @Item AND pilot_id = @PilotId", new { decided.Item, decided.PilotId }, tx);
            }
            else
            {
                await c.ExecuteAsync(string.Format(CultureInfo.InvariantCulture, Upsert, ""),
                    new { decided.Scope!.Id, decided.PilotId, Data = Ser(decided.Scope) }, tx);
            }
        }
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task AddEffortAsync(EffortEntry entry, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("INSERT INTO pilot_effort (id, pilot_id, data, created_at) VALUES (@Id, @PilotId, @Data, @At)",
            new { entry.Id, entry.PilotId, Data = Ser(entry), At = entry.CreatedAt.ToUnixTimeMilliseconds() });
    }

    public async Task<IReadOnlyList<EffortEntry>> EffortAsync(string pilotId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return [.. (await c.QueryAsync<string>("SELECT data FROM pilot_effort WHERE pilot_id = @pilotId ORDER BY created_at, id", new { pilotId }))
            .Select(De<EffortEntry>)];
    }

    public async Task<bool> AddAlertAsync(PilotAlert alert, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("INSERT INTO pilot_alerts (pilot_id, kind, threshold, data) VALUES (@PilotId, @Kind, @T, @Data) ON CONFLICT DO NOTHING",
            new { alert.PilotId, alert.Kind, T = PilotInput.Canonical(alert.Threshold).ToString(CultureInfo.InvariantCulture), Data = Ser(alert) }) == 1;
    }

    public async Task UpdateAlertAsync(PilotAlert alert, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("UPDATE pilot_alerts SET data = @Data WHERE pilot_id = @PilotId AND kind = @Kind AND threshold = @T",
            new { alert.PilotId, alert.Kind, T = PilotInput.Canonical(alert.Threshold).ToString(CultureInfo.InvariantCulture), Data = Ser(alert) });
    }

    public async Task<IReadOnlyList<PilotAlert>> AlertsAsync(string pilotId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        // Ordered here, not by the threshold column: that is text, where "10" sorts before "2".
        return [.. (await c.QueryAsync<string>("SELECT data FROM pilot_alerts WHERE pilot_id = @pilotId", new { pilotId }))
            .Select(De<PilotAlert>).OrderBy(a => a.Kind, StringComparer.Ordinal).ThenBy(a => a.Threshold)];
    }

    public async Task AddBakeoffAsync(PilotBakeoff bakeoff, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("INSERT INTO pilot_bakeoffs (id, pilot_id, created_at, data) VALUES (@Id, @PilotId, @At, @Data)",
            new { bakeoff.Id, bakeoff.PilotId, At = bakeoff.CreatedAt.ToUnixTimeMilliseconds(), Data = Ser(bakeoff) });
    }

    public async Task<IReadOnlyList<PilotBakeoff>> BakeoffsAsync(string pilotId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return [.. (await c.QueryAsync<string>("SELECT data FROM pilot_bakeoffs WHERE pilot_id = @pilotId ORDER BY created_at, id", new { pilotId }))
            .Select(De<PilotBakeoff>)];
    }

    public async Task<bool> DeleteBakeoffAsync(string pilotId, string bakeoffId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("DELETE FROM pilot_bakeoffs WHERE pilot_id = @pilotId AND id = @bakeoffId", new { pilotId, bakeoffId }) == 1;
    }

    public async Task PutSignoffAsync(Signoff signoff, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("INSERT INTO pilot_signoffs (pilot_id, side, data) VALUES (@PilotId, @Side, @Data) ON CONFLICT(pilot_id, side) DO UPDATE SET data = excluded.data",
            new { signoff.PilotId, signoff.Side, Data = Ser(signoff) });
    }

    public async Task<IReadOnlyList<Signoff>> SignoffsAsync(string pilotId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return [.. (await c.QueryAsync<string>("SELECT data FROM pilot_signoffs WHERE pilot_id = @pilotId ORDER BY side", new { pilotId })).Select(De<Signoff>)];
    }
}
