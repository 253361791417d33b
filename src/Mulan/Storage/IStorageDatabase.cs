namespace Mulan.Storage;

/// <summary>The database behind the stores, whichever backend it is: prepared once at start, pinged by <c>/healthz</c>.</summary>
public interface IStorageDatabase
{
    /// <summary>Creates what is missing and applies pending migrations. Throws <see cref="Hosting.StartupException"/> when the
    /// database cannot be reached, naming where it was looked for (never the password).</summary>
    Task InitializeAsync(CancellationToken ct = default);

    /// <summary>An open connection, for the stores whose SQL is the same on both backends (Dapper over DbConnection).</summary>
    Task<System.Data.Common.DbConnection> OpenConnectionAsync(CancellationToken ct = default);

    /// <summary>Begins a write transaction. <paramref name="relaxed"/> (<c>LedgerSync=Normal</c>): the commit does not wait for
    /// the disk, as the usage ledger's does not (SQLite <c>synchronous=NORMAL</c>, PostgreSQL <c>synchronous_commit=off</c>).</summary>
    Task<System.Data.Common.DbTransaction> BeginWriteAsync(System.Data.Common.DbConnection c, bool relaxed, CancellationToken ct);

    /// <summary>True for a violated constraint (unique, foreign key, check): the row is taken, or what it refers to is gone.</summary>
    bool IsConstraintViolation(Exception e);

    /// <summary>Locks a row until the transaction ends, where the database has row locks (SQLite's single writer already
    /// serializes write transactions).</summary>
    Task LockRowAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string table, string id);

    /// <summary>True when one trivial query succeeds.</summary>
    Task<bool> PingAsync(CancellationToken ct = default);

    /// <summary>Where the data is, for the start-up summary: a path, or a PostgreSQL connection string without its password.</summary>
    string Describe();
}
