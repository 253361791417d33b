using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace Mulan.Access;

/// <summary>
/// The active virtual keys by hash, as an immutable snapshot swapped atomically after every change:
/// the gateway's hot path reads it without a lock or a database round trip, and a revocation is
/// visible to the very next request. Service keys (<see cref="ServiceKeys"/>) live beside the snapshot.
/// </summary>
public sealed class KeyRing
{
    private readonly ConcurrentDictionary<string, VirtualKey> _service = new(StringComparer.Ordinal);
    private FrozenDictionary<string, VirtualKey> _byHash = FrozenDictionary<string, VirtualKey>.Empty;

    public void Replace(IEnumerable<VirtualKey> keys) =>
        Volatile.Write(ref _byHash, keys.Where(k => k.RevokedAt is null).ToFrozenDictionary(k => k.KeyHash, StringComparer.Ordinal));

    public VirtualKey? Find(string keyHash) =>
        Volatile.Read(ref _byHash).TryGetValue(keyHash, out var key) ? key : _service.GetValueOrDefault(keyHash);

    internal void AddService(VirtualKey key) => _service[key.KeyHash] = key;
}
