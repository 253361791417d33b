using Dapper;
using Microsoft.Data.Sqlite;
using Mulan.Gateway.Metering;

namespace Mulan.Storage;

/// <summary>
/// The hourly rollups behind <c>/api/usage/summary</c>:
/// <list type="bullet">
/// <item><c>usage_hourly</c>: requests, errors, tokens and cost per hour, workspace, key, app, model, provider and currency;</item>
/// <item><c>usage_latency_hourly</c>: requests per hour, workspace and latency bucket (<see cref="LatencyHistogram"/>).</item>
/// </list>
/// They are brought up to date from the records past a high-water mark (<c>usage_rollup.last_rowid</c>), by a background
/// pass and before every summary is read, never by a trigger: a trigger put 60 µs on every ledger insert, which is the
/// request's critical path, where a pass costs a few µs per record off it. Records are never deleted, so a rowid past
/// the mark is a record not yet counted, and a summary read after a catch-up counts every committed record exactly once.
/// </summary>
internal static class SqliteUsageRollup
{
    /// <summary>The most records one pass folds in: about 50 ms of the write lock on this machine, so that the ledger's
    /// writer (and every other) waits at most that long behind a catch-up of a million records; passes go one at a time.</summary>
    public const int MaxRecordsPerPass = 10_000;

    /// <summary>Errors are requests that failed upstream or that Mulan refused; aborted and cached requests are not.</summary>
    private const string IsError = "status IN ('upstream_error', 'rejected')";

    public const string Migration = """
        CREATE TABLE usage_hourly (
            workspace_id TEXT NOT NULL,
            hour INTEGER NOT NULL,
            key_id TEXT NOT NULL,
            app_id TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            currency TEXT NOT NULL,
            requests INTEGER NOT NULL,
            errors INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cost_nanos INTEGER NOT NULL,
            PRIMARY KEY (workspace_id, hour, key_id, app_id, model, provider, currency)) WITHOUT ROWID;
        CREATE INDEX usage_hourly_hour ON usage_hourly(hour);
        CREATE TABLE usage_latency_hourly (
            hour INTEGER NOT NULL,
            workspace_id TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            requests INTEGER NOT NULL,
            PRIMARY KEY (hour, workspace_id, bucket)) WITHOUT ROWID;
        CREATE TABLE usage_rollup (name TEXT PRIMARY KEY, last_rowid INTEGER NOT NULL);
        INSERT INTO usage_rollup VALUES ('hourly', 0);
        """;

    private static readonly string Pass = $"""
        INSERT INTO usage_hourly
            SELECT workspace_id, at / 3600000, key_id, COALESCE(app_id, ''), model, COALESCE(provider, ''), COALESCE(currency, ''),
                COUNT(*), SUM({IsError}), SUM(input_tokens), SUM(output_tokens), SUM(cost_nanos)
            FROM usage_records WHERE rowid > @From AND rowid <= @To GROUP BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT DO UPDATE SET requests = requests + excluded.requests, errors = errors + excluded.errors,
            input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
            cost_nanos = cost_nanos + excluded.cost_nanos;
        INSERT INTO usage_latency_hourly
            SELECT at / 3600000, workspace_id, {LatencyHistogram.SqlBucketExpression("latency_ms")}, COUNT(*)
            FROM usage_records WHERE rowid > @From AND rowid <= @To GROUP BY 1, 2, 3
        ON CONFLICT DO UPDATE SET requests = requests + excluded.requests;
        UPDATE usage_rollup SET last_rowid = @To WHERE name = 'hourly';
        """;

    /// <summary>Folds every record committed so far into the rollups, in passes of at most <see cref="MaxRecordsPerPass"/>.</summary>
    /// <returns>the number of records folded in.</returns>
    public static async Task<long> CatchUpAsync(SqliteConnection c, CancellationToken ct)
    {
        long folded = 0;
        while (true)
        {
            // BEGIN IMMEDIATE takes the write lock first: no insert is half-way while the mark and the new records are read.
            await using var tx = c.BeginTransaction(deferred: false);
            var from = await c.ExecuteScalarAsync<long>("SELECT last_rowid FROM usage_rollup WHERE name = 'hourly'", transaction: tx);
            var max = await c.ExecuteScalarAsync<long?>("SELECT MAX(rowid) FROM usage_records", transaction: tx) ?? 0;
            if (max <= from)
            {
                await tx.CommitAsync(ct);
                return folded;
            }
            var to = Math.Min(max, from + MaxRecordsPerPass);
            await c.ExecuteAsync(new CommandDefinition(Pass, new { From = from, To = to }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            folded += to - from;
        }
    }
}
