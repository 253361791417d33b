using System.Net.Sockets;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mulan.Storage.Postgres;

/// <summary>
/// Opens connections to the PostgreSQL database named by <c>Storage:Postgres</c> (or <c>--database</c>). One pooled data
/// source per process; several Mulan nodes may share the database, so migrations take an advisory lock.
/// </summary>
public sealed class PostgresDatabase : IStorageDatabase, IAsyncDisposable
{
    private readonly NpgsqlDataSource _source;
    private readonly string _described;
    private readonly string _host;

    public PostgresDatabase(IOptions<StorageOptions> options)
    {
        var connectionString = options.Value.Postgres ?? throw new InvalidOperationException("Storage:Postgres is not set");
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        _host = $"{builder.Host}:{(builder.Port == 0 ? 5432 : builder.Port)}";
        var shown = new NpgsqlConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(shown.Password))
        {
            shown.Password = "***";
        }
        _described = shown.ConnectionString;
        _source = new NpgsqlDataSourceBuilder(connectionString) { Name = "mulan" }.Build();
        LedgerSync = options.Value.LedgerSync;
    }

    public LedgerSync LedgerSync { get; }

    /// <summary>The oldest running transaction when this node started (see <see cref="PostgresKnowledgeSync"/>).</summary>
    public long StartHorizon { get; private set; }

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken ct = default) => await _source.OpenConnectionAsync(ct);

    public async Task<System.Data.Common.DbConnection> OpenConnectionAsync(CancellationToken ct = default) => await OpenAsync(ct);

    public async Task<System.Data.Common.DbTransaction> BeginWriteAsync(System.Data.Common.DbConnection c, bool relaxed, CancellationToken ct)
    {
        var tx = await c.BeginTransactionAsync(ct);
        if (relaxed)
        {
            await c.ExecuteAsync("SET LOCAL synchronous_commit = off", transaction: tx);
        }
        return tx;
    }

    // Class 23: integrity constraint violation.
    public bool IsConstraintViolation(Exception e) => e is PostgresException p && p.SqlState.StartsWith("23", StringComparison.Ordinal);

    public async Task LockRowAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string table, string id) =>
        await c.ExecuteAsync($"SELECT 1 FROM {table} WHERE id = @id FOR UPDATE", new { id }, tx);

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        NpgsqlConnection connection;
        try
        {
            connection = await OpenAsync(ct);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or ArgumentException)
        {
            // The message says what failed (refused, authentication, unknown database); the connection string is not repeated.
            throw new Hosting.StartupException($"Storage:Postgres: cannot connect to PostgreSQL at {_host}: {e.Message}");
        }
        await using (connection)
        {
            await PostgresMigrations.ApplyAsync(connection, ct);
            // Taken before the in-memory indexes load what is stored: the knowledge change log is followed from here.
            StartHorizon = await connection.ExecuteScalarAsync<long>("SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint");
        }
    }

    /// <summary>True when the database holds Mulan's tables (migrated at least once); connection failures throw <see cref="Hosting.StartupException"/>.</summary>
    public async Task<bool> HasSchemaAsync(CancellationToken ct = default)
    {
        try
        {
            await using var c = await OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT to_regclass('mulan_schema') IS NOT NULL AND to_regclass('settings') IS NOT NULL", c);
            return (bool)(await cmd.ExecuteScalarAsync(ct))!;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            throw new Hosting.StartupException($"Storage:Postgres: cannot connect to PostgreSQL at {_host}: {e.Message}");
        }
    }

    public async Task<bool> PingAsync(CancellationToken ct = default)
    {
        try
        {
            await using var c = await OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT 1", c);
            await cmd.ExecuteScalarAsync(ct);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            return false;
        }
    }

    public string Describe() => _described;

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    /// <summary>True when <paramref name="e"/> is a unique or primary-key violation (SQLite's SQLITE_CONSTRAINT where the stores catch it).</summary>
    internal static bool IsUniqueViolation(Exception e) => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
