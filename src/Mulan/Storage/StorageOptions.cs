namespace Mulan.Storage;

public enum LedgerSync { Full, Normal }

/// <summary>Where Mulan keeps its state. Bound from the <c>Storage</c> configuration section.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>The data folder (SQLite database, key ring, uploaded files). Default <c>./mulan-data</c>;
    /// <c>--data</c> or env <c>MULAN_DATA</c> override it.</summary>
    public string DataDirectory { get; set; } = "mulan-data";

    /// <summary>How long a writer waits for a locked database before failing, in milliseconds. Default 5000.</summary>
    public int BusyTimeoutMs { get; set; } = 5000;

    /// <summary>
    /// How the usage ledger commits. <c>Full</c> (default): every commit is fsynced before the response completes,
    /// so a completed request keeps its record through a power loss. <c>Normal</c>: commits reach the operating
    /// system before the response completes (they survive the process being killed) and are fsynced at WAL
    /// checkpoints, about once a second; a power loss can lose the last second. Saves one fsync per request batch.
    /// </summary>
    public LedgerSync LedgerSync { get; set; } = LedgerSync.Full;

    /// <summary>A PostgreSQL connection string (<c>Host=db;Database=mulan;Username=mulan;Password=...</c>). When set, every store
    /// lives in that database instead of the SQLite file; the data folder still holds the key ring and uploaded files.
    /// <c>--database</c> or env <c>MULAN_STORAGE__POSTGRES</c> override it. Never logged; the start-up summary masks the password.</summary>
    public string? Postgres { get; set; }

    public bool UsesPostgres => !string.IsNullOrWhiteSpace(Postgres);

    /// <summary>A Redis server (StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c>) that several
    /// nodes share: rate-limit counters, budget accounts and change notices. Default none (one node, all in process).
    /// <c>Governance:Redis</c> is its earlier name and still works.</summary>
    public string? Redis { get; set; }

    public string DatabasePath => Path.Combine(Path.GetFullPath(DataDirectory), "mulan.db");
}
