using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Forwarding;

/// <summary>
/// Sends one request to a deployment: passed through to an OpenAI-compatible vendor, or translated by the
/// protocol's <see cref="IVendorAdapter"/>. Either way the answer is OpenAI-shaped. The target URL comes only
/// from the catalog.
/// </summary>
public sealed class UpstreamCaller(IHttpClientFactory factory, IEnumerable<IVendorAdapter> adapters, IOptions<GatewayOptions> options)
{
    public const string ClientName = "mulan-upstream";
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly Dictionary<WireProtocol, IVendorAdapter> _adapters = adapters.ToDictionary(a => a.Protocol);
    private readonly long _maxResponseBytes = options.Value.MaxResponseBodyBytes;

    /// <exception cref="HttpRequestException">the vendor could not be reached, or broke off before answering.</exception>
    public async Task<HttpResponseMessage> SendAsync(Deployment deployment, GatewayRequest request, string requestId, CancellationToken ct)
    {
        if (deployment.Provider.Kind.Protocol == WireProtocol.OpenAICompatible)
        {
            return await PassThroughAsync(deployment, request.Endpoint, request.RewriteFor(deployment.VendorModel), requestId, ct);
        }
        var adapter = _adapters[deployment.Provider.Kind.Protocol];
        try
        {
            return await adapter.SendAsync(new AdapterCall(deployment, request, requestId, factory.CreateClient(ClientName), _maxResponseBytes), ct);
        }
        catch (VendorError e)
        {
            return e.ToResponse();
        }
        catch (Exception e) when (e is IOException or JsonException or System.Net.WebSockets.WebSocketException)
        {
            throw new HttpRequestException($"the vendor broke off: {e.Message}", e);
        }
    }

    private async Task<HttpResponseMessage> PassThroughAsync(Deployment deployment, GatewayEndpoint endpoint, byte[] body, string requestId, CancellationToken ct)
    {
        var provider = deployment.Provider;
        var path = endpoint == GatewayEndpoint.ChatCompletions ? "/chat/completions" : "/embeddings";
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(provider.BaseUrl.AbsoluteUri.TrimEnd('/') + path))
        {
            Version = HttpVersion.Version11,
            Content = new ByteArrayContent(body) { Headers = { ContentType = Json } },
        };
        if (!string.IsNullOrEmpty(provider.ApiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", provider.ApiKey);
        }
        foreach (var (name, value) in provider.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        // Lets a vendor-side log (and the test vendor's ledger) be matched to Mulan's usage record.
        request.Headers.TryAddWithoutValidation("x-mulan-request-id", requestId);
        var client = factory.CreateClient(ClientName);
        // The request is not disposed here: its content may still be in flight while the response streams.
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    /// <summary>The shared handler: pooled keep-alive connections, no redirects (a redirect could carry the
    /// vendor key elsewhere), no cookies, no proxy from the environment unless configured.</summary>
    public static SocketsHttpHandler CreateHandler(GatewayOptions options) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ConnectTimeout = TimeSpan.FromSeconds(options.ConnectTimeoutSeconds),
        MaxConnectionsPerServer = int.MaxValue,
        EnableMultipleHttp2Connections = true,
        // When a client aborts a stream the upstream connection must close at once, so the vendor stops
        // generating (and billing); draining it for reuse would keep tokens flowing that nobody reads.
        MaxResponseDrainSize = 0,
    };
}
