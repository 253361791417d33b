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
    private readonly TimeSpan _connectTimeout = TimeSpan.FromSeconds(options.Value.ConnectTimeoutSeconds);

    /// <summary>The connect timeout of the deployment a request goes to, read by the handler's connect callback.</summary>
    public static readonly HttpRequestOptionsKey<TimeSpan> ConnectTimeoutOption = new("mulan.connect-timeout");

    /// <exception cref="HttpRequestException">the vendor could not be reached, or broke off before answering.</exception>
    public async Task<HttpResponseMessage> SendAsync(Deployment deployment, GatewayRequest request, string requestId, CancellationToken ct)
    {
        var connect = deployment.Settings.Connect ?? _connectTimeout;
        if (deployment.Provider.Kind.Protocol == WireProtocol.OpenAICompatible)
        {
            return await PassThroughAsync(deployment, request.Endpoint, request.RewriteFor(deployment.VendorModel), requestId, connect, ct);
        }
        var adapter = _adapters[deployment.Provider.Kind.Protocol];
        try
        {
            return await adapter.SendAsync(new AdapterCall(deployment, request, requestId, factory.CreateClient(ClientName), _maxResponseBytes, connect), ct);
        }
        catch (VendorError e)
        {
            return e.ToResponse();
        }
        catch (Exception e) when (e is IOException or JsonException or System.Net.WebSockets.WebSocketException)
        {
            // A refused or unreachable socket means the vendor never saw the request (and cannot bill it).
            var never = e.InnerException is System.Net.Sockets.SocketException || e.InnerException?.InnerException is System.Net.Sockets.SocketException;
            throw new HttpRequestException(never ? HttpRequestError.ConnectionError : HttpRequestError.Unknown, $"the vendor broke off: {e.Message}", e);
        }
    }

    private async Task<HttpResponseMessage> PassThroughAsync(Deployment deployment, GatewayEndpoint endpoint, byte[] body, string requestId, TimeSpan connect, CancellationToken ct)
    {
        var provider = deployment.Provider;
        var path = endpoint == GatewayEndpoint.ChatCompletions ? "/chat/completions" : "/embeddings";
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(provider.BaseUrl.AbsoluteUri.TrimEnd('/') + path))
        {
            Version = HttpVersion.Version11,
            Content = new ByteArrayContent(body) { Headers = { ContentType = Json } },
        };
        request.Options.Set(ConnectTimeoutOption, connect);
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
        // Each deployment may set its own connect timeout, so the connect step is ours; the handler's own limit is only a cap.
        ConnectTimeout = TimeSpan.FromSeconds(120),
        ConnectCallback = (context, ct) => ConnectAsync(context, TimeSpan.FromSeconds(options.ConnectTimeoutSeconds), ct),
        MaxConnectionsPerServer = int.MaxValue,
        EnableMultipleHttp2Connections = true,
        // When a client aborts a stream the upstream connection must close at once, so the vendor stops
        // generating (and billing); draining it for reuse would keep tokens flowing that nobody reads.
        MaxResponseDrainSize = 0,
    };

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, TimeSpan fallback, CancellationToken ct)
    {
        var limit = context.InitialRequestMessage.Options.TryGetValue(ConnectTimeoutOption, out var own) ? own : fallback;
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(limit);
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, timeout.Token);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new HttpRequestException(HttpRequestError.ConnectionError,
                $"connecting to {context.DnsEndPoint.Host}:{context.DnsEndPoint.Port} took longer than {limit.TotalSeconds:0.###} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
