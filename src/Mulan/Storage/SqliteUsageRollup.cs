using Mulan.Gateway.Metering;

namespace Mulan.Storage;

/// <summary>
/// The hourly usage rollup behind <c>/api/usage/summary</c>: one row per hour, workspace, key, app, model, provider and
/// currency with request, error, token and cost sums and a latency histogram (<see cref="LatencyHistogram"/>). A trigger
/// keeps it in the same statement as each ledger insert, like the daily rollup, so it can never drift from the records.
/// </summary>
internal static class SqliteUsageRollup
{
    private static readonly string Buckets = string.Join(", ", Enumerable.Range(0, LatencyHistogram.Count).Select(LatencyHistogram.Column));

    /// <summary>Errors are requests that failed upstream or that Mulan refused; aborted and cached requests are not.</summary>
    private const string IsError = "status IN ('upstream_error', 'rejected')";

    public static string Migration()
    {
        var columns = string.Join("\n", Enumerable.Range(0, LatencyHistogram.Count).Select(i => $"    {LatencyHistogram.Column(i)} INTEGER NOT NULL DEFAULT 0,"));
        // The bucket is computed once per record (a subquery column), then each bucket column is a comparison with it.
        var sums = string.Join(", ", Enumerable.Range(0, LatencyHistogram.Count).Select(i => $"SUM(b = {i})"));
        var flags = string.Join(", ", Enumerable.Range(0, LatencyHistogram.Count).Select(i => $"b = {i}"));
        var update = string.Join(", ", Enumerable.Range(0, LatencyHistogram.Count).Select(i =>
            $"{LatencyHistogram.Column(i)} = {LatencyHistogram.Column(i)} + excluded.{LatencyHistogram.Column(i)}"));
        return $"""
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
            {columns}
                PRIMARY KEY (workspace_id, hour, key_id, app_id, model, provider, currency)) WITHOUT ROWID;
            CREATE INDEX usage_hourly_hour ON usage_hourly(hour);
            INSERT INTO usage_hourly (workspace_id, hour, key_id, app_id, model, provider, currency, requests, errors, input_tokens, output_tokens, cost_nanos, {Buckets})
                SELECT workspace_id, at / 3600000, key_id, COALESCE(app_id, ''), model, COALESCE(provider, ''), COALESCE(currency, ''),
                    COUNT(*), SUM({IsError}), SUM(input_tokens), SUM(output_tokens), SUM(cost_nanos), {sums}
                FROM (SELECT *, {LatencyHistogram.SqlBucketExpression("latency_ms")} AS b FROM usage_records) GROUP BY 1, 2, 3, 4, 5, 6, 7;
            CREATE TRIGGER usage_hourly_add AFTER INSERT ON usage_records BEGIN
                INSERT INTO usage_hourly (workspace_id, hour, key_id, app_id, model, provider, currency, requests, errors, input_tokens, output_tokens, cost_nanos, {Buckets})
                SELECT NEW.workspace_id, NEW.at / 3600000, NEW.key_id, COALESCE(NEW.app_id, ''), NEW.model, COALESCE(NEW.provider, ''), COALESCE(NEW.currency, ''),
                    1, NEW.{IsError}, NEW.input_tokens, NEW.output_tokens, NEW.cost_nanos, {flags}
                FROM (SELECT {LatencyHistogram.SqlBucketExpression("NEW.latency_ms")} AS b)
                -- An upsert on INSERT ... SELECT needs a WHERE, or SQLite reads ON as a join constraint.
                WHERE true
                ON CONFLICT DO UPDATE SET requests = requests + 1, errors = errors + excluded.errors, input_tokens = input_tokens + excluded.input_tokens,
                    output_tokens = output_tokens + excluded.output_tokens, cost_nanos = cost_nanos + excluded.cost_nanos, {update};
            END;
            """;
    }
}
