namespace Mulan.Access;

/// <summary>
/// The bootstrap administrator's key. When <c>MULAN_ADMIN_KEY</c> is set it is the key; otherwise a key is
/// generated on the first start, printed once, and only its hash is kept.
/// </summary>
public sealed class AdminKey(IAccessStore store, TimeProvider time)
{
    public const string EnvironmentVariable = "MULAN_ADMIN_KEY";
    private const string SettingName = "admin_key_hash";
    private string? _hash;

    public async Task InitializeAsync(string? fromEnvironment, TextWriter console, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            _hash = KeyMaterial.Hash(fromEnvironment.Trim());
            return;
        }
        _hash = await store.GetSettingAsync(SettingName, ct);
        if (_hash is null)
        {
            var key = KeyMaterial.NewAdminKey();
            _hash = KeyMaterial.Hash(key);
            await store.SetSettingAsync(SettingName, _hash, ct);
            // Deliberately the console, not the logger: the key must reach the operator once and never a log sink.
            await console.WriteLineAsync($"""

                Administrator key (shown only this once; it is stored as a hash), generated {time.GetUtcNow():u}:

                    {key}

                Keep it safe, and pass it as MULAN_ADMIN_KEY to the command line and as the bearer token to /api.

                """);
        }
    }

    public bool Matches(string? presented) =>
        _hash is not null && !string.IsNullOrEmpty(presented) && presented.Length <= 200 &&
        KeyMaterial.HashEquals(KeyMaterial.Hash(presented), _hash);
}
