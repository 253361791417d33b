using System.Collections.Concurrent;
using Mulan.Access;

namespace Mulan.Console.Chat;

/// <summary>
/// The key the chat page calls a workspace's apps with, through the gateway like any client (so every call is in the
/// one ledger, with the chatting user as the request's <c>user</c>). One per workspace, minted in memory at first use,
/// never stored or shown (a restart mints a new one); its usage records carry the key id
/// <c>service-console-&lt;workspace id&gt;</c>. It has a secret, like the evaluation key, because the gateway serves
/// <c>app:&lt;slug&gt;</c> models only to an authenticated request.
/// </summary>
public sealed class ConsoleServiceKey(KeyRing ring, TimeProvider time)
{
    public const string KeyIdPrefix = "service-console-";
    private readonly ConcurrentDictionary<string, Lazy<string>> _secrets = new(StringComparer.Ordinal);

    public string BearerFor(string workspaceId) => _secrets.GetOrAdd(workspaceId, id => new Lazy<string>(() =>
    {
        var secret = KeyMaterial.NewVirtualKey();
        ring.AddService(new VirtualKey(KeyIdPrefix + id, id, "chat page", KeyMaterial.Hash(secret), KeyMaterial.DisplayPrefix(secret),
            null, null, null, null, null, null, time.GetUtcNow()));
        return secret;
    })).Value;
}
