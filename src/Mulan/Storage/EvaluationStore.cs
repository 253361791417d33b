using System.Text.Json;
using Dapper;
using Mulan.Evaluations;
using Mulan.Gateway.Metering;

namespace Mulan.Storage;

/// <remarks>The same SQL on SQLite and PostgreSQL: one store over either database.</remarks>
public sealed class EvaluationStore(IStorageDatabase db) : IEvaluationStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string SetColumns = "id AS Id, workspace_id AS WorkspaceId, name AS Name, latest_version AS LatestVersion, created_at AS CreatedAt, updated_at AS UpdatedAt";

    private const string RunColumns = """
        id AS Id, workspace_id AS WorkspaceId, set_id AS SetId, set_version AS SetVersion, target AS Target, app_id AS AppId, judge AS Judge,
        concurrency AS Concurrency, max_cost_nanos AS MaxCostNanos, status AS Status, reason AS Reason, item_count AS ItemCount,
        created_at AS CreatedAt, updated_at AS UpdatedAt, ended_at AS EndedAt
        """;

    public async Task CreateSetAsync(EvaluationSet set, EvaluationSetVersion version, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(
            "INSERT INTO evaluation_sets (id, workspace_id, name, latest_version, created_at, updated_at) VALUES (@Id, @WorkspaceId, @Name, @LatestVersion, @CreatedAt, @UpdatedAt)",
            new { set.Id, set.WorkspaceId, set.Name, set.LatestVersion, CreatedAt = set.CreatedAt.ToUnixTimeMilliseconds(), UpdatedAt = set.UpdatedAt.ToUnixTimeMilliseconds() }, tx);
        await InsertVersionAsync(c, tx, version);
        await tx.CommitAsync(ct);
    }

    private static Task InsertVersionAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, EvaluationSetVersion v) =>
        c.ExecuteAsync("INSERT INTO evaluation_set_versions (set_id, version, items, item_count, created_at) VALUES (@SetId, @Version, @Items, @Count, @At)",
            new { v.SetId, v.Version, Items = JsonSerializer.Serialize(v.Items, Json), Count = v.Items.Count, At = v.CreatedAt.ToUnixTimeMilliseconds() }, tx);

    public async Task<bool> AddVersionAsync(string setId, EvaluationSetVersion version, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        // Only on top of the version it was made from: two concurrent edits cannot both become version n+1.
        var updated = await c.ExecuteAsync("UPDATE evaluation_sets SET latest_version = @Version, updated_at = @At WHERE id = @setId AND latest_version = @Version - 1",
            new { setId, version.Version, At = at.ToUnixTimeMilliseconds() }, tx);
        if (updated == 0)
        {
            return false;
        }
        await InsertVersionAsync(c, tx, version);
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<EvaluationSet?> FindSetAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<SetRow>($"SELECT {SetColumns} FROM evaluation_sets WHERE id = @id", new { id }))?.ToModel();
    }

    public async Task<IReadOnlyList<EvaluationSet>> SetsAsync(string? workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<SetRow>(
            $"SELECT {SetColumns} FROM evaluation_sets WHERE (@workspaceId IS NULL OR workspace_id = @workspaceId) ORDER BY created_at, id", new { workspaceId });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<EvaluationSetVersion?> VersionAsync(string setId, int version, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<(string Items, long At)?>(
            "SELECT items, created_at FROM evaluation_set_versions WHERE set_id = @setId AND version = @version", new { setId, version });
        return row is { } r
            ? new EvaluationSetVersion(setId, version, JsonSerializer.Deserialize<List<EvaluationItem>>(r.Items, Json) ?? [], DateTimeOffset.FromUnixTimeMilliseconds(r.At))
            : null;
    }

    public async Task<bool> DeleteSetAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("DELETE FROM evaluation_sets WHERE id = @id", new { id }) > 0;
    }

    public async Task CreateRunAsync(EvaluationRun run, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO evaluation_runs (id, workspace_id, set_id, set_version, target, app_id, judge, concurrency, max_cost_nanos, status, reason, item_count,
              created_at, updated_at, ended_at)
            VALUES (@Id, @WorkspaceId, @SetId, @SetVersion, @Target, @AppId, @Judge, @Concurrency, @MaxCostNanos, @Status, @Reason, @ItemCount, @CreatedAt, @UpdatedAt, NULL)
            """,
            new
            {
                run.Id, run.WorkspaceId, run.SetId, run.SetVersion, Target = JsonSerializer.Serialize(run.Target, Json), run.AppId, run.Judge, run.Concurrency,
                MaxCostNanos = run.MaxCost is { } m ? Cost.ToNanos(m) : (long?)null, run.Status, run.Reason, run.ItemCount,
                CreatedAt = run.CreatedAt.ToUnixTimeMilliseconds(), UpdatedAt = run.UpdatedAt.ToUnixTimeMilliseconds(),
            });
    }

    public async Task<EvaluationRun?> FindRunAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<RunRow>($"SELECT {RunColumns} FROM evaluation_runs WHERE id = @id", new { id }))?.ToModel();
    }

    public async Task<IReadOnlyList<EvaluationRun>> RunsAsync(string? workspaceId, string? setId, string? status, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<RunRow>(
            $"""
            SELECT {RunColumns} FROM evaluation_runs
            WHERE (@workspaceId IS NULL OR workspace_id = @workspaceId) AND (@setId IS NULL OR set_id = @setId) AND (@status IS NULL OR status = @status)
            ORDER BY created_at DESC, id DESC LIMIT @limit
            """, new { workspaceId, setId, status, limit });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<bool> EndRunAsync(string id, string status, string? reason, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var ms = at.ToUnixTimeMilliseconds();
        return await c.ExecuteAsync(
            "UPDATE evaluation_runs SET status = @status, reason = @reason, updated_at = @ms, ended_at = @ms WHERE id = @id AND status = 'running'",
            new { id, status, reason, ms }) > 0;
    }

    public async Task<bool> SaveItemAsync(string runId, EvaluationItemResult result, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var inserted = await c.ExecuteAsync(
            "INSERT INTO evaluation_run_items (run_id, idx, result, cost_nanos, judge_cost_nanos) VALUES (@runId, @Index, @Result, @CostNanos, @JudgeNanos) ON CONFLICT DO NOTHING",
            new { runId, result.Index, Result = JsonSerializer.Serialize(result, Json), CostNanos = Cost.ToNanos(result.Cost), JudgeNanos = Cost.ToNanos(result.JudgeCost) }, tx);
        await c.ExecuteAsync("UPDATE evaluation_runs SET updated_at = @ms WHERE id = @runId", new { runId, ms = at.ToUnixTimeMilliseconds() }, tx);
        await tx.CommitAsync(ct);
        return inserted > 0;
    }

    public async Task<IReadOnlyList<EvaluationItemResult>> ItemsAsync(string runId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<string>("SELECT result FROM evaluation_run_items WHERE run_id = @runId ORDER BY idx", new { runId });
        return [.. rows.Select(r => JsonSerializer.Deserialize<EvaluationItemResult>(r, Json)!)];
    }

    private sealed class SetRow
    {
        public string Id { get; init; } = "";
        public string WorkspaceId { get; init; } = "";
        public string Name { get; init; } = "";
        public long LatestVersion { get; init; }
        public long CreatedAt { get; init; }
        public long UpdatedAt { get; init; }

        public EvaluationSet ToModel() => new(Id, WorkspaceId, Name, (int)LatestVersion, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
            DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt));
    }

    private sealed class RunRow
    {
        public string Id { get; init; } = "";
        public string WorkspaceId { get; init; } = "";
        public string SetId { get; init; } = "";
        public long SetVersion { get; init; }
        public string Target { get; init; } = "";
        public string? AppId { get; init; }
        public string? Judge { get; init; }
        public long Concurrency { get; init; }
        public long? MaxCostNanos { get; init; }
        public string Status { get; init; } = "";
        public string? Reason { get; init; }
        public long ItemCount { get; init; }
        public long CreatedAt { get; init; }
        public long UpdatedAt { get; init; }
        public long? EndedAt { get; init; }

        public EvaluationRun ToModel() => new(Id, WorkspaceId, SetId, (int)SetVersion, JsonSerializer.Deserialize<EvaluationTarget>(Target, Json)!, AppId, Judge,
            (int)Concurrency, MaxCostNanos is { } n ? Cost.FromNanos(n) : null, Status, Reason, (int)ItemCount, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
            DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt), EndedAt is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e) : null);
    }
}
