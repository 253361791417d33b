using Dapper;
using Mulan.Assistant.Runs;
using Mulan.Gateway.Metering;

namespace Mulan.Storage;

/// <remarks>One store over SQLite or PostgreSQL; what differs is <see cref="IStorageDatabase"/>'s.</remarks>
public sealed class RunStore(IStorageDatabase db, Microsoft.Extensions.Options.IOptions<StorageOptions> options) : IRunStore
{
    private const string Columns = """
        id AS Id, app_id AS AppId, app_version AS AppVersion, workspace_id AS WorkspaceId, key_id AS KeyId, origin AS Origin,
        schedule AS Schedule, status AS Status, input AS Input, output AS Output, error AS Error, prompt_tokens AS PromptTokens,
        completion_tokens AS CompletionTokens, cost_nanos AS CostNanos, currency AS Currency, steps AS Steps, created_at AS CreatedAt,
        updated_at AS UpdatedAt, ended_at AS EndedAt, state AS State
        """;

    public async Task CreateAsync(Run run, RunState state, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO runs (id, app_id, app_version, workspace_id, key_id, origin, schedule, status, input, output, error, state, prompt_tokens,
              completion_tokens, cost_nanos, currency, steps, created_at, updated_at, ended_at)
            VALUES (@Id, @AppId, @AppVersion, @WorkspaceId, @KeyId, @Origin, @Schedule, @Status, @Input, @Output, @Error, @State, @PromptTokens,
              @CompletionTokens, @CostNanos, @Currency, @Steps, @CreatedAt, @UpdatedAt, @EndedAt)
            """, Args(run, state), tx);
        await AppendMessagesAsync(c, tx, run.Id, state);
        await tx.CommitAsync(ct);
        state.StoredMessages = state.Messages.Count;
    }

    /// <summary>Inserts the messages the state has beyond those stored.</summary>
    private static async Task AppendMessagesAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string runId, RunState state)
    {
        for (var i = state.StoredMessages; i < state.Messages.Count; i++)
        {
            await c.ExecuteAsync("INSERT INTO run_messages (run_id, seq, message) VALUES (@runId, @i, @message)",
                new { runId, i, message = state.Messages[i]!.ToJsonString() }, tx);
        }
    }

    public async Task<bool> SaveAsync(Run run, RunState state, IReadOnlyList<RunStep> newSteps, string? expectedStatus, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        // A step is as durable as the usage record of its model call: what LedgerSync says for the ledger holds here.
        await using var tx = await db.BeginWriteAsync(c, options.Value.LedgerSync == LedgerSync.Normal, ct);
        var args = new DynamicParameters(Args(run, state));
        args.Add("Expected", expectedStatus);
        var updated = await c.ExecuteAsync(
            """
            UPDATE runs SET status = @Status, output = @Output, error = @Error, state = @State, prompt_tokens = @PromptTokens,
              completion_tokens = @CompletionTokens, cost_nanos = @CostNanos, currency = @Currency, steps = @Steps, updated_at = @UpdatedAt,
              ended_at = @EndedAt
            WHERE id = @Id AND (@Expected IS NULL OR status = @Expected)
            """, args, tx);
        if (updated == 0)
        {
            return false;
        }
        foreach (var s in newSteps)
        {
            await c.ExecuteAsync(
                """
                INSERT INTO run_steps (run_id, seq, kind, name, status, input, output, error, duration_ms, cost_nanos, request_id, at)
                VALUES (@RunId, @Seq, @Kind, @Name, @Status, @Input, @Output, @Error, @DurationMs, @CostNanos, @RequestId, @At)
                """,
                new
                {
                    RunId = run.Id, s.Seq, s.Kind, s.Name, s.Status, s.Input, s.Output, s.Error, s.DurationMs, CostNanos = Cost.ToNanos(s.Cost), s.RequestId,
                    At = s.At.ToUnixTimeMilliseconds(),
                }, tx);
        }
        await AppendMessagesAsync(c, tx, run.Id, state);
        await tx.CommitAsync(ct);
        state.StoredMessages = state.Messages.Count;
        return true;
    }

    private static object Args(Run run, RunState state) => new
    {
        run.Id, run.AppId, run.AppVersion, run.WorkspaceId, run.KeyId, run.Origin, run.Schedule, run.Status, run.Input, run.Output, run.Error,
        State = state.Serialize(), run.PromptTokens, run.CompletionTokens, CostNanos = Cost.ToNanos(run.Cost), run.Currency, run.Steps,
        CreatedAt = run.CreatedAt.ToUnixTimeMilliseconds(), UpdatedAt = run.UpdatedAt.ToUnixTimeMilliseconds(), EndedAt = run.EndedAt?.ToUnixTimeMilliseconds(),
    };

    public async Task<Run?> FindAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM runs WHERE id = @id", new { id }))?.ToModel();
    }

    public async Task<RunState?> StateAsync(string id, CancellationToken ct, bool conversation = true)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var json = await c.QuerySingleOrDefaultAsync<string>("SELECT state FROM runs WHERE id = @id", new { id });
        if (json is null)
        {
            return null;
        }
        var state = RunState.Parse(json);
        if (!conversation)
        {
            return state;
        }
        foreach (var message in await c.QueryAsync<string>("SELECT message FROM run_messages WHERE run_id = @id ORDER BY seq", new { id }))
        {
            state.Messages.Add(System.Text.Json.Nodes.JsonNode.Parse(message));
        }
        state.StoredMessages = state.Messages.Count;
        return state;
    }

    public async Task<IReadOnlyList<RunStep>> StepsAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<StepRow>(
            """
            SELECT seq AS Seq, kind AS Kind, name AS Name, status AS Status, input AS Input, output AS Output, error AS Error, duration_ms AS DurationMs,
              cost_nanos AS CostNanos, request_id AS RequestId, at AS At
            FROM run_steps WHERE run_id = @id ORDER BY seq
            """, new { id });
        return [.. rows.Select(r => new RunStep((int)r.Seq, r.Kind, r.Name, r.Status, r.Input, r.Output, r.Error, r.DurationMs, Cost.FromNanos(r.CostNanos),
            r.RequestId, DateTimeOffset.FromUnixTimeMilliseconds(r.At)))];
    }

    public async Task<IReadOnlyList<Run>> ListAsync(RunQuery q, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<Row>(
            $"""
            SELECT {Columns} FROM runs
            WHERE (@WorkspaceId IS NULL OR workspace_id = @WorkspaceId) AND (@AppId IS NULL OR app_id = @AppId) AND (@Status IS NULL OR status = @Status)
            ORDER BY created_at DESC, id LIMIT @Limit
            """, q);
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<IReadOnlyList<Run>> InStatusAsync(string status, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<Row>($"SELECT {Columns} FROM runs WHERE status = @status ORDER BY created_at", new { status });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<bool> ScheduleBusyAsync(string appId, string schedule, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM runs WHERE app_id = @appId AND schedule = @schedule AND status IN ('running', 'awaiting_approval')",
            new { appId, schedule }) > 0;
    }

    public async Task<DateTimeOffset?> LastFiredAsync(string appId, string schedule, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var at = await c.QuerySingleOrDefaultAsync<long?>("SELECT last_fired_at FROM schedule_state WHERE app_id = @appId AND schedule = @schedule",
            new { appId, schedule });
        return at is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    public async Task SetLastFiredAsync(string appId, string schedule, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO schedule_state (app_id, schedule, last_fired_at) VALUES (@appId, @schedule, @at)
            ON CONFLICT (app_id, schedule) DO UPDATE SET last_fired_at = excluded.last_fired_at
            """, new { appId, schedule, at = at.ToUnixTimeMilliseconds() });
    }

    private sealed class StepRow
    {
        public long Seq { get; init; }
        public string Kind { get; init; } = "";
        public string? Name { get; init; }
        public string Status { get; init; } = "";
        public string? Input { get; init; }
        public string? Output { get; init; }
        public string? Error { get; init; }
        public long DurationMs { get; init; }
        public long CostNanos { get; init; }
        public string? RequestId { get; init; }
        public long At { get; init; }
    }

    private sealed class Row
    {
        public string Id { get; init; } = "";
        public string AppId { get; init; } = "";
        public long AppVersion { get; init; }
        public string WorkspaceId { get; init; } = "";
        public string KeyId { get; init; } = "";
        public string Origin { get; init; } = "";
        public string? Schedule { get; init; }
        public string Status { get; init; } = "";
        public string Input { get; init; } = "";
        public string? Output { get; init; }
        public string? Error { get; init; }
        public long PromptTokens { get; init; }
        public long CompletionTokens { get; init; }
        public long CostNanos { get; init; }
        public string? Currency { get; init; }
        public long Steps { get; init; }
        public long CreatedAt { get; init; }
        public long UpdatedAt { get; init; }
        public long? EndedAt { get; init; }
        public string State { get; init; } = "";

        public Run ToModel() => new(Id, AppId, (int)AppVersion, WorkspaceId, KeyId, Origin, Schedule, Status, Input, Output, Error, PromptTokens,
            CompletionTokens, Cost.FromNanos(CostNanos), Currency, (int)Steps, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
            DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt), EndedAt is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e) : null);
    }
}
