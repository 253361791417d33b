namespace Mulan.Storage;

/// <summary>Where Mulan keeps its state. Bound from the <c>Storage</c> configuration section.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>The data folder (SQLite database, key ring, uploaded files). Default <c>./mulan-data</c>;
    /// <c>--data</c> or env <c>MULAN_DATA</c> override it.</summary>
    public string DataDirectory { get; set; } = "mulan-data";

    /// <summary>How long a writer waits for a locked database before failing, in milliseconds. Default 5000.</summary>
    public int BusyTimeoutMs { get; set; } = 5000;

    public string DatabasePath => Path.Combine(Path.GetFullPath(DataDirectory), "mulan.db");
}
