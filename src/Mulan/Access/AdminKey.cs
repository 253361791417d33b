namespace Mulan.Access;

/// <summary>
/// The bootstrap administrator's key. When <c>MULAN_ADMIN_KEY</c> is set it is the key; otherwise a key is
/// generated on the first start and only its hash is kept. The generated key is stored and printed only once the
/// server has started (<see cref="CommitAsync"/>): a start that fails (port taken, bad setting) leaves nothing
/// behind, and the next start generates and shows a key again.
/// </summary>
public sealed class AdminKey(IAccessStore store, TimeProvider time)
{
    public const string EnvironmentVariable = "MULAN_ADMIN_KEY";
    internal const string SettingName = "admin_key_hash";

    /// <summary>How long a stored hash is trusted before it is read again, so that <c>mulan admin reset-key</c>
    /// takes effect on a running server within this time.</summary>
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(2);

    private volatile State _state = new(null, null, fromEnvironment: false, loadedAt: DateTimeOffset.MinValue);

    private sealed class State(string? hash, string? pendingKey, bool fromEnvironment, DateTimeOffset loadedAt)
    {
        public string? Hash { get; } = hash;
        public string? PendingKey { get; } = pendingKey;
        public bool FromEnvironment { get; } = fromEnvironment;
        public DateTimeOffset LoadedAt { get; } = loadedAt;
    }

    /// <summary>Where the key came from, for the start-up summary.</summary>
    public string Origin => _state switch
    {
        { FromEnvironment: true } => "from MULAN_ADMIN_KEY",
        { PendingKey: not null } => "generated (shown below)",
        _ => "stored (hash); lost it? mulan admin reset-key --data DIR",
    };

    public async Task InitializeAsync(string? fromEnvironment, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            _state = new State(KeyMaterial.Hash(fromEnvironment.Trim()), null, fromEnvironment: true, time.GetUtcNow());
            return;
        }
        var stored = await store.GetSettingAsync(SettingName, ct);
        if (stored is not null)
        {
            _state = new State(stored, null, fromEnvironment: false, time.GetUtcNow());
            return;
        }
        var key = KeyMaterial.NewAdminKey();
        _state = new State(KeyMaterial.Hash(key), key, fromEnvironment: false, time.GetUtcNow());
    }

    /// <summary>After a successful start: stores a generated key's hash and shows the key, once.</summary>
    public async Task CommitAsync(TextWriter console, CancellationToken ct)
    {
        if (_state is not { PendingKey: { } key, Hash: { } hash })
        {
            return;
        }
        await store.SetSettingAsync(SettingName, hash, ct);
        _state = new State(hash, null, fromEnvironment: false, time.GetUtcNow());
        // Deliberately the console, not the logger: the key must reach the operator once and never a log sink.
        await console.WriteLineAsync(Banner(key, time.GetUtcNow()));
    }

    /// <summary>The text that shows a new key, generated at start or by <c>mulan admin reset-key</c>.</summary>
    public static string Banner(string key, DateTimeOffset at) => $"""

        Administrator key (shown only this once; it is stored as a hash), generated {at:u}:

            {key}

        Keep it safe, and pass it as MULAN_ADMIN_KEY to the command line and as the bearer token to /api.

        """;

    /// <summary>A short mark of the current key, kept with sessions signed in with it: after <c>mulan admin reset-key</c>
    /// they no longer match and stop working. (The database holds the key's whole hash already.)</summary>
    public string? Fingerprint() => CurrentHash() is { } hash ? hash[..16] : null;

    public bool Matches(string? presented)
    {
        if (string.IsNullOrEmpty(presented) || presented.Length > 200)
        {
            return false;
        }
        var hash = CurrentHash();
        return hash is not null && KeyMaterial.HashEquals(KeyMaterial.Hash(presented), hash);
    }

    /// <summary>The stored hash, re-read when older than <see cref="Refresh"/>: a reset made while the server runs
    /// replaces the old key here too. The read is one indexed row of a local database, on management calls only.</summary>
    private string? CurrentHash()
    {
        var state = _state;
        if (state.FromEnvironment || state.PendingKey is not null || time.GetUtcNow() - state.LoadedAt < Refresh)
        {
            return state.Hash;
        }
        var stored = store.GetSettingAsync(SettingName, CancellationToken.None).GetAwaiter().GetResult();
        _state = new State(stored ?? state.Hash, null, fromEnvironment: false, time.GetUtcNow());
        return _state.Hash;
    }
}
