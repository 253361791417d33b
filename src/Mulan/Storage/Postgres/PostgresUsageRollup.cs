using Dapper;
using Mulan.Gateway.Metering;
using Npgsql;

namespace Mulan.Storage.Postgres;

/// <summary>
/// The hourly rollups of <see cref="SqliteUsageRollup"/> on PostgreSQL. The high-water mark is the records' <c>seq</c>. Identity values
/// are handed out before commit, so a lower one may commit after a higher one: a pass therefore locks the ledger against
/// inserts (EXCLUSIVE lets readers through, waits for inserts in flight to commit), after which every record up to the
/// highest seq is committed and none is skipped or counted twice.
/// </summary>
internal static class PostgresUsageRollup
{
    private const string IsError = "CASE WHEN status IN ('upstream_error', 'rejected') THEN 1 ELSE 0 END";

    // LatencyHistogram.SqlBucketExpression, with PostgreSQL's LEAST for SQLite's two-argument min().
    private static readonly string Bucket = LatencyHistogram.SqlBucketExpression("latency_ms").Replace("min(", "LEAST(", StringComparison.Ordinal);

    private static readonly string Pass = $"""
        INSERT INTO usage_hourly AS h
            SELECT workspace_id, at / 3600000, key_id, COALESCE(app_id, ''), model, COALESCE(provider, ''), COALESCE(currency, ''),
                COUNT(*), SUM({IsError}), SUM(input_tokens), SUM(output_tokens), SUM(cost_nanos)
            FROM usage_records WHERE seq > @From AND seq <= @To GROUP BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT (workspace_id, hour, key_id, app_id, model, provider, currency) DO UPDATE SET requests = h.requests + excluded.requests,
            errors = h.errors + excluded.errors, input_tokens = h.input_tokens + excluded.input_tokens,
            output_tokens = h.output_tokens + excluded.output_tokens, cost_nanos = h.cost_nanos + excluded.cost_nanos;
        INSERT INTO usage_latency_hourly AS l
            SELECT at / 3600000, workspace_id, {Bucket}, COUNT(*)
            FROM usage_records WHERE seq > @From AND seq <= @To GROUP BY 1, 2, 3
        ON CONFLICT (hour, workspace_id, bucket) DO UPDATE SET requests = l.requests + excluded.requests;
        UPDATE usage_rollup SET last_seq = @To WHERE name = 'hourly';
        """;

    public static async Task<long> CatchUpAsync(NpgsqlConnection c, CancellationToken ct)
    {
        long folded = 0;
        while (true)
        {
            await using var tx = await c.BeginTransactionAsync(ct);
            // The mark row first: passes on several nodes go one at a time. Then the ledger: no insert is half-way.
            var from = await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT last_seq FROM usage_rollup WHERE name = 'hourly' FOR UPDATE",
                transaction: tx, cancellationToken: ct));
            await c.ExecuteAsync(new CommandDefinition("LOCK TABLE usage_records IN EXCLUSIVE MODE", transaction: tx, cancellationToken: ct));
            var max = await c.ExecuteScalarAsync<long?>(new CommandDefinition("SELECT MAX(seq) FROM usage_records", transaction: tx, cancellationToken: ct)) ?? 0;
            if (max <= from)
            {
                await tx.CommitAsync(ct);
                return folded;
            }
            var to = Math.Min(max, from + SqliteUsageRollup.MaxRecordsPerPass);
            await c.ExecuteAsync(new CommandDefinition(Pass, new { From = from, To = to }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            // Identity values may skip (a rolled-back insert): the records folded are at most this many.
            folded += to - from;
        }
    }
}
