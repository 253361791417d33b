using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Mulan.Gateway.Metering;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Caching;

/// <summary>An answer kept for identical requests: its bytes and the usage it reported.</summary>
public sealed record CachedAnswer(byte[] Body, string ContentType, UsageFigures Usage);

/// <summary>
/// The exact response cache of model routes that opt in: a non-streaming answer is kept for the route's TTL and given
/// to an identical request (same workspace, same normalized body) without calling any vendor. Keys hold the workspace,
/// so two workspaces never share an answer. Bounded by <see cref="GatewayOptions.CacheMaxBytes"/>; in memory, so a
/// restart empties it.
/// </summary>
public sealed class ResponseCache(IOptions<GatewayOptions> options) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = options.Value.CacheMaxBytes });

    /// <summary>The cache key of a request: a hash of the workspace, the endpoint and the body with its keys sorted,
    /// so the same request written in another key order is the same request.</summary>
    public static string KeyOf(string workspaceId, GatewayRequest request)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteStringValue(workspaceId);
            writer.WriteStringValue(request.Endpoint.ToString());
            WriteSorted(writer, request.Body);
            writer.WriteEndArray();
        }
        return Convert.ToHexString(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
    }

    public CachedAnswer? Find(string key) => _cache.TryGetValue(key, out CachedAnswer? answer) ? answer : null;

    public void Keep(string key, CachedAnswer answer, TimeSpan ttl) =>
        _cache.Set(key, answer, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = ttl, Size = answer.Body.Length + 256 });

    public void Dispose() => _cache.Dispose();

    private static void WriteSorted(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (name, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(name);
                    WriteSorted(writer, value);
                }
                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    WriteSorted(writer, item);
                }
                writer.WriteEndArray();
                break;
            case null:
                writer.WriteNullValue();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
