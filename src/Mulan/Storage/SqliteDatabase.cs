using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Mulan.Storage;

/// <summary>
/// Opens connections to the embedded SQLite database. WAL lets readers run beside the single writer;
/// <c>synchronous=FULL</c> makes every commit durable (the usage ledger relies on it).
/// </summary>
public sealed class SqliteDatabase : IStorageDatabase
{
    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;
    private readonly string _path;

    public SqliteDatabase(IOptions<StorageOptions> options)
    {
        var o = options.Value;
        // Owner-only: the folder holds the ledger and the key ring that decrypts provider secrets.
        var folder = Path.GetFullPath(o.DataDirectory);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        _busyTimeoutMs = o.BusyTimeoutMs;
        _path = o.DatabasePath;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = o.DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Math.Max(1, o.BusyTimeoutMs / 1000),
        }.ToString();
    }

    public async Task<System.Data.Common.DbConnection> OpenConnectionAsync(CancellationToken ct = default) => await OpenAsync(ct);

    public async Task<System.Data.Common.DbTransaction> BeginWriteAsync(System.Data.Common.DbConnection c, bool relaxed, CancellationToken ct)
    {
        if (relaxed)
        {
            // Before the transaction: SQLite does not change synchronous inside one.
            await c.ExecuteAsync("PRAGMA synchronous=NORMAL;");
        }
        return await c.BeginTransactionAsync(ct);
    }

    public bool IsConstraintViolation(Exception e) => e is SqliteException { SqliteErrorCode: 19 }; // SQLITE_CONSTRAINT

    public Task LockRowAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string table, string id) => Task.CompletedTask;

    public async Task<SqliteConnection> OpenAsync(CancellationToken ct = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        using var pragma = connection.CreateCommand();
        // Per-connection settings; journal_mode is persistent but cheap to restate.
        pragma.CommandText = $"PRAGMA busy_timeout={_busyTimeoutMs}; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
        await pragma.ExecuteNonQueryAsync(ct);
        return connection;
    }

    /// <summary>Creates the database if needed, switches it to WAL and applies pending migrations.</summary>
    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            await wal.ExecuteScalarAsync(ct);
        }
        await SqliteMigrations.ApplyAsync(connection, ct);
    }

    public async Task<bool> PingAsync(CancellationToken ct = default)
    {
        try
        {
            await using var c = await OpenAsync(ct);
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT 1";
            await cmd.ExecuteScalarAsync(ct);
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    public string Describe() => _path;
}
