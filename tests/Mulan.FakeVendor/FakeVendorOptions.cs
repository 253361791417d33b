namespace Mulan.FakeVendor;

/// <summary>How a <see cref="FakeVendorServer"/> is started.</summary>
public sealed class FakeVendorOptions
{
    /// <summary>The key clients must send as <c>Authorization: Bearer ...</c>.</summary>
    public string ApiKey { get; init; } = "sk-fake-vendor-key";

    /// <summary>Loopback port to bind; 0 lets the OS pick a free one.</summary>
    public int Port { get; init; }

    /// <summary>
    /// Keep every request (headers and body) in <see cref="FakeVendorServer.Requests"/>.
    /// On by default for tests; the CLI turns it off because a long benchmark would
    /// otherwise hold every body in memory.
    /// </summary>
    public bool RecordRequests { get; init; } = true;

    /// <summary>Log requests to stderr. Off by default: the benchmark measures against this server.</summary>
    public bool EnableLogging { get; init; }
}
