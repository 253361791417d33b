using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Mulan.Bench.Hosting;

namespace Mulan.Bench.Dashboard;

/// <summary>
/// Writes synthetic usage records straight into a stopped server's database, through the same insert trigger the
/// ledger's own writes fire (the daily rollup), so that the server started afterwards reads a ledger that
/// looks as if it had served them: three workspaces, 20 keys (each in one workspace, with one app or none, over two of 8 models),
/// 4 providers, 10 apps, two currencies, 30 days.
/// </summary>
internal static class LedgerFill
{
    public static readonly string[] Workspaces = ["default", "ws-sales", "ws-support"];

    private const string InsertSql = """
        INSERT INTO usage_records (request_id, at, workspace_id, key_id, endpoint, model, provider, vendor_model, input_tokens, cached_tokens,
          output_tokens, cost_nanos, currency, latency_ms, status, usage_source, streamed, http_status, attempts, reasoning_tokens, app_id, units_milli)
        VALUES ($id, $at, $ws, $key, 'chat.completions', $model, $provider, $model, $in, 0, $out, $cost, $currency, $latency, $status, 'reported', 0, 200, 1, 0, $app, 0)
        """;

    public sealed record Fill(int Rows, double Seconds, long LedgerRows);

    public static Fill Write(string database, int count, DateTimeOffset now)
    {
        using var c = Open(database);
        var started = Stopwatch.GetTimestamp();
        Insert(c, count, now, 1000, seed: 1);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        using var rows = c.CreateCommand();
        rows.CommandText = "SELECT COUNT(*) FROM usage_records";
        return new Fill(count, seconds, (long)rows.ExecuteScalar()!);
    }

    /// <summary>µs per record of a ledger insert, and of folding the records into the hourly rollups afterwards (off the
    /// request's path), in fresh copies of the schema.</summary>
    public static (double Insert, double RollUp) WriteCost(string folder, int count, DateTimeOffset now)
    {
        Directory.CreateDirectory(folder);
        (double, double) Measure()
        {
            using var c = Open(Path.Combine(folder, $"ledger-{Guid.NewGuid():N}.db"));
            Schema(c);
            var started = Stopwatch.GetTimestamp();
            Insert(c, count, now, 64, seed: 2);
            var insert = Stopwatch.GetElapsedTime(started).TotalMicroseconds / count;
            started = Stopwatch.GetTimestamp();
            var folded = Mulan.Storage.SqliteUsageRollup.CatchUpAsync(c, CancellationToken.None).GetAwaiter().GetResult();
            if (folded != count)
            {
                throw new BenchException($"the rollup folded {folded} of {count} records");
            }
            return (insert, Stopwatch.GetElapsedTime(started).TotalMicroseconds / count);
        }
        // Twice, keeping each figure's better run: the machine is shared.
        var (i1, r1) = Measure();
        var (i2, r2) = Measure();
        return (Math.Min(i1, i2), Math.Min(r1, r2));
    }

    /// <summary>The exact nearest-rank p95 of the window's latencies: the query a dashboard without the rollup would run.</summary>
    public static double ExactP95(string database, DateTimeOffset from, DateTimeOffset to)
    {
        using var c = new SqliteConnection($"Data Source={database};Mode=ReadOnly");
        c.Open();
        using var count = c.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM usage_records WHERE at >= $from AND at < $to";
        count.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        count.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        var n = (long)count.ExecuteScalar()!;
        using var p95 = c.CreateCommand();
        p95.CommandText = "SELECT latency_ms FROM usage_records WHERE at >= $from AND at < $to ORDER BY latency_ms LIMIT 1 OFFSET $offset";
        p95.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        p95.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        p95.Parameters.AddWithValue("$offset", Math.Max(0, (long)Math.Ceiling(0.95 * n) - 1));
        return Convert.ToDouble(p95.ExecuteScalar() ?? 0.0, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static SqliteConnection Open(string path)
    {
        var c = new SqliteConnection($"Data Source={path}");
        c.Open();
        // The fill measures the statements, not the disk.
        Exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;");
        return c;
    }

    /// <summary>The ledger's schema as the server creates it: the server's own migrations.</summary>
    private static void Schema(SqliteConnection c) => Mulan.Storage.SqliteMigrations.ApplyAsync(c, CancellationToken.None).GetAwaiter().GetResult();

    private static void Insert(SqliteConnection c, int count, DateTimeOffset now, int batch, int seed)
    {
        var random = new Random(seed);
        var start = now.AddDays(-30).ToUnixTimeMilliseconds();
        var span = now.ToUnixTimeMilliseconds() - start;
        using var command = c.CreateCommand();
        command.CommandText = InsertSql;
        string[] names = ["$id", "$at", "$ws", "$key", "$model", "$provider", "$in", "$out", "$cost", "$currency", "$latency", "$status", "$app"];
        var parameters = names.Select(n => command.Parameters.Add(n, SqliteType.Text)).ToArray();
        string[] statuses = ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "upstream_error", "rejected"];
        var prefix = $"bench-{seed}-{Guid.NewGuid():N}-";
        for (var i = 0; i < count; i += batch)
        {
            using var tx = c.BeginTransaction();
            command.Transaction = tx;
            for (var j = i; j < Math.Min(count, i + batch); j++)
            {
                // Each key belongs to one workspace and (mostly) one app and uses two models, as real keys do.
                var key = random.Next(20);
                var model = random.Next(2) == 0 ? key % 8 : (key + 3) % 8;
                // Log-normal around 400 ms: most requests fast, a long tail.
                var latency = Math.Exp(6 + random.NextDouble() * 1.2 + (random.NextDouble() < 0.05 ? 2 : 0));
                object[] values =
                [
                    prefix + j, start + (long)(random.NextDouble() * span), Workspaces[key % Workspaces.Length], $"key-{key}",
                    $"model-{model}", $"provider-{model % 4}", random.Next(10, 4000), random.Next(0, 1500), random.Next(0, 5_000_000),
                    model < 5 ? "CNY" : "USD", latency, statuses[random.Next(statuses.Length)], key >= 14 ? DBNull.Value : $"app-{key % 10}",
                ];
                for (var k = 0; k < values.Length; k++)
                {
                    parameters[k].Value = values[k];
                }
                command.ExecuteNonQuery();
            }
            tx.Commit();
        }
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var command = c.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
