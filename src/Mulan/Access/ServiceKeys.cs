using System.Collections.Concurrent;

namespace Mulan.Access;

/// <summary>
/// Keys the server itself uses to call its own gateway for a workspace — knowledge-base embeddings at ingestion,
/// re-embedding and query time — so those calls go through the same routing, metering and (later) limits as any
/// client's. One per workspace, minted in memory at first use and never stored or shown: a restart mints a new one.
/// Their usage records carry the key id <c>service-knowledge-&lt;workspace id&gt;</c>.
/// </summary>
public sealed class ServiceKeys(KeyRing ring, TimeProvider time)
{
    public const string KeyIdPrefix = "service-knowledge-";

    /// <summary>The key id of the workspace's assistant service key: what runs started through <c>/api</c> and
    /// schedules are charged to.</summary>
    public const string AssistantKeyIdPrefix = "service-assistant-";
    private readonly ConcurrentDictionary<string, VirtualKey> _assistant = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<string>> _secrets = new(StringComparer.Ordinal);

    /// <summary>The key id of the workspace's evaluation service key: what evaluation runs' target and judge calls are charged to.</summary>
    public const string EvaluationKeyIdPrefix = "service-evaluation-";
    private readonly ConcurrentDictionary<string, Lazy<string>> _evaluation = new(StringComparer.Ordinal);

    /// <summary>The bearer secret of the workspace's evaluation service key. It has a secret (unlike the assistant's)
    /// because a run calls apps as <c>app:&lt;slug&gt;</c> models, which the gateway serves only to an authenticated client call.</summary>
    public string EvaluationBearerFor(string workspaceId) => _evaluation.GetOrAdd(workspaceId, id => new Lazy<string>(() =>
    {
        var secret = KeyMaterial.NewVirtualKey();
        ring.AddService(new VirtualKey(EvaluationKeyIdPrefix + id, id, "evaluation runs", KeyMaterial.Hash(secret),
            KeyMaterial.DisplayPrefix(secret), null, null, null, null, null, null, time.GetUtcNow()));
        return secret;
    })).Value;

    /// <summary>The bearer secret of the workspace's knowledge service key.</summary>
    public string BearerFor(string workspaceId) => _secrets.GetOrAdd(workspaceId, id => new Lazy<string>(() => Mint(id))).Value;

    /// <summary>The workspace's assistant service key: used in process only (it has no secret), no limits of its own;
    /// the app's budget and the workspace's limits still apply to its calls.</summary>
    public VirtualKey AssistantKey(string workspaceId) => _assistant.GetOrAdd(workspaceId, id =>
        new VirtualKey(AssistantKeyIdPrefix + id, id, "assistant runs", "", "", null, null, null, null, null, null, time.GetUtcNow()));

    private string Mint(string workspaceId)
    {
        var secret = KeyMaterial.NewVirtualKey();
        ring.AddService(new VirtualKey(KeyIdPrefix + workspaceId, workspaceId, "knowledge base embeddings", KeyMaterial.Hash(secret),
            KeyMaterial.DisplayPrefix(secret), null, null, null, null, null, null, time.GetUtcNow()));
        return secret;
    }
}
