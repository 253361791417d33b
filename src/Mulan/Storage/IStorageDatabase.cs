namespace Mulan.Storage;

/// <summary>The database behind the stores, whichever backend it is: prepared once at start, pinged by <c>/healthz</c>.</summary>
public interface IStorageDatabase
{
    /// <summary>Creates what is missing and applies pending migrations. Throws <see cref="Hosting.StartupException"/> when the
    /// database cannot be reached, naming where it was looked for (never the password).</summary>
    Task InitializeAsync(CancellationToken ct = default);

    /// <summary>An open connection, for the stores whose SQL is the same on both backends (Dapper over DbConnection).</summary>
    Task<System.Data.Common.DbConnection> OpenConnectionAsync(CancellationToken ct = default);

    /// <summary>True when one trivial query succeeds.</summary>
    Task<bool> PingAsync(CancellationToken ct = default);

    /// <summary>Where the data is, for the start-up summary: a path, or a PostgreSQL connection string without its password.</summary>
    string Describe();
}
