using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Mulan.Outbound;

/// <summary>A URL Mulan refuses to fetch, with the reason.</summary>
public sealed class BlockedUrlException(string message) : Exception(message);

/// <summary>
/// The one client for user-supplied URLs (URL ingestion, later HTTP tools). Every connection is checked
/// after DNS resolution, at connect time, so a name that resolves (or re-resolves) to loopback, private,
/// link-local, CGNAT, multicast or cloud-metadata addresses is refused; redirects are followed by hand, at
/// most five, each one checked the same way; only http and https; bodies are size-capped.
/// An administrator may let one tool source reach exact hosts the policy refuses (a business system on a private
/// address): such requests go through a connection pool of their own per set of allowed hosts, so an allowance never
/// lends a pooled connection to a caller without it. Cloud metadata addresses stay refused even then.
/// </summary>
public sealed class GuardedHttpClient : IDisposable
{
    public const int MaxRedirects = 5;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, Lazy<HttpClient>> _allowing = new(StringComparer.Ordinal);
    private readonly Func<IPAddress, bool> _allowed;
    private readonly OutboundOptions _options;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;

    /// <param name="allowAddress">Overrides the address policy (tests on loopback only); null = the public-internet policy.</param>
    /// <param name="resolve">Overrides DNS (tests of a resolver that never answers); null = the system resolver.</param>
    public GuardedHttpClient(OutboundOptions options, Func<IPAddress, bool>? allowAddress = null, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    {
        _options = options;
        _allowed = allowAddress ?? IsPublic;
        _resolve = resolve ?? ((host, ct) => Dns.GetHostAddressesAsync(host, ct));
        _http = CreateClient(null);
    }

    private HttpClient CreateClient(IReadOnlySet<string>? allowHosts)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.All,
            // The steps have their own limits (below); this bounds a connection attempt that outlives its request.
            ConnectTimeout = _options.Dns + _options.Connect + _options.Tls,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = (context, ct) => ConnectAsync(context, allowHosts, ct),
            PlaintextStreamFilter = (context, _) =>
            {
                // Called once the connection is ready (after TLS for https): from here the server owes us its headers.
                Phase(context.InitialRequestMessage)?.Enter("waiting for the response headers", _options.FirstByte);
                return ValueTask.FromResult(context.PlaintextStream);
            },
        };
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("Mulan/1.0 (+knowledge ingestion)");
        return http;
    }

    /// <summary>The client whose connections may reach <paramref name="allowHosts"/> (canonical host names) even when they
    /// resolve to private or loopback addresses; one per distinct set, shared by the callers with exactly that set.
    /// Null or empty: the plain policy. Owned by this instance: callers must not dispose it.</summary>
    public HttpClient ClientFor(IReadOnlyCollection<string>? allowHosts)
    {
        if (allowHosts is null || allowHosts.Count == 0)
        {
            return _http;
        }
        var set = allowHosts.Select(Canonical).ToHashSet(StringComparer.Ordinal);
        var key = string.Join(' ', set.Order(StringComparer.Ordinal));
        return _allowing.GetOrAdd(key, _ => new Lazy<HttpClient>(() => CreateClient(set))).Value;
    }

    /// <summary>Defaults for every step, with <paramref name="timeout"/> for the body.</summary>
    public GuardedHttpClient(TimeSpan timeout, Func<IPAddress, bool>? allowAddress = null)
        : this(new OutboundOptions { BodyTimeoutSeconds = timeout.TotalSeconds }, allowAddress)
    {
    }

    /// <summary>Fetches a URL; returns the final URL, the media type and at most <paramref name="maxBytes"/> bytes.</summary>
    /// <exception cref="BlockedUrlException">the URL, a redirect or an address it resolves to is not fetched.</exception>
    /// <exception cref="OutboundTimeoutException">a step took longer than <see cref="OutboundOptions"/> allows.</exception>
    public async Task<(Uri Url, string? MediaType, byte[] Body)> GetAsync(Uri url, long maxBytes, CancellationToken ct)
    {
        var current = url;
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            CheckScheme(current);
            using var phase = new FetchPhase(current.IdnHost, ct);
            // A reused connection skips the connect steps: then the whole allowance is the server's, to send its headers.
            phase.Enter("waiting for the response headers", _options.Dns + _options.Connect + _options.Tls + _options.FirstByte);
            // HTTP/1.1 or 2 only: HTTP/3 (QUIC) would not go through ConnectCallback, where the address is checked.
            using var request = new HttpRequestMessage(HttpMethod.Get, current) { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
            request.Options.Set(FetchPhase.Key, phase);
            var next = await GuardAsync(phase, ct, async () =>
            {
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, phase.Token);
                if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    return new Hop<(Uri, string?, byte[])>(location.IsAbsoluteUri ? location : new Uri(current, location), default);
                }
                if (!response.IsSuccessStatusCode)
                {
                    throw new HttpRequestException($"the server answered HTTP {(int)response.StatusCode}", null, response.StatusCode);
                }
                return new Hop<(Uri, string?, byte[])>(null, (current, response.Content.Headers.ContentType?.MediaType, await ReadBodyAsync(response, phase, maxBytes)));
            });
            if (next.Redirect is null)
            {
                return next.Result;
            }
            current = next.Redirect;
        }
        throw new BlockedUrlException($"more than {MaxRedirects} redirects");
    }

    /// <summary>
    /// Sends any request (an HTTP tool call, a webhook) under the same checks and per-step limits as <see cref="GetAsync"/>,
    /// and answers whatever status the server gave, with at most <paramref name="maxBytes"/> bytes of body. Redirects are
    /// followed for GET and HEAD only (a POST is never replayed elsewhere), at most five, each checked; the request's own
    /// headers (a credential, say) go along only while the redirect stays on the same origin. The caller keeps
    /// <paramref name="request"/> and disposes it.
    /// </summary>
    /// <param name="allowHosts">exact hosts this caller may reach on private or loopback addresses (see <see cref="ClientFor"/>).</param>
    /// <returns>the final status, the media type and the body; a 3xx is returned as is when not followed.</returns>
    /// <exception cref="BlockedUrlException">the URL, a redirect or an address is refused, or the body is larger than allowed.</exception>
    /// <exception cref="OutboundTimeoutException">a step took longer than <see cref="OutboundOptions"/> allows.</exception>
    /// <exception cref="HttpRequestException">the connection failed (refused, reset, TLS).</exception>
    public async Task<(int Status, string? MediaType, byte[] Body)> SendAsync(HttpRequestMessage request, long maxBytes,
        IReadOnlyCollection<string>? allowHosts, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var http = ClientFor(allowHosts);
        var current = request;
        try
        {
            for (var hop = 0; hop <= MaxRedirects; hop++)
            {
                var url = current.RequestUri ?? throw new BlockedUrlException("the request has no URL");
                CheckScheme(url);
                using var phase = new FetchPhase(url.IdnHost, ct);
                phase.Enter("waiting for the response headers", _options.Dns + _options.Connect + _options.Tls + _options.FirstByte);
                if (current.Headers.UserAgent.Count == 0)
                {
                    // Not the ingestion default: a tool call or a webhook is not a crawl.
                    current.Headers.UserAgent.ParseAdd("Mulan/1.0");
                }
                current.Version = HttpVersion.Version11;
                current.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
                current.Options.Set(FetchPhase.Key, phase);
                var sent = current;
                var (redirect, result) = await GuardAsync(phase, ct, async () =>
                {
                    using var response = await http.SendAsync(sent, HttpCompletionOption.ResponseHeadersRead, phase.Token);
                    var status = (int)response.StatusCode;
                    if (status is >= 300 and < 400 && response.Headers.Location is { } location && (sent.Method == HttpMethod.Get || sent.Method == HttpMethod.Head))
                    {
                        return new Hop<(int, string?, byte[])>(location.IsAbsoluteUri ? location : new Uri(url, location), default);
                    }
                    return new Hop<(int, string?, byte[])>(null, (status, response.Content.Headers.ContentType?.MediaType, await ReadBodyAsync(response, phase, maxBytes)));
                });
                if (redirect is null)
                {
                    return result;
                }
                var follow = new HttpRequestMessage(current.Method, redirect);
                if (SameOrigin(url, redirect))
                {
                    foreach (var header in current.Headers)
                    {
                        follow.Headers.TryAddWithoutValidation(header.Key, header.Value);
                    }
                }
                if (!ReferenceEquals(current, request))
                {
                    current.Dispose();
                }
                current = follow;
            }
            throw new BlockedUrlException($"more than {MaxRedirects} redirects");
        }
        finally
        {
            if (!ReferenceEquals(current, request))
            {
                current.Dispose();
            }
        }
    }

    /// <summary>What one hop ended with: a redirect to follow, or the result.</summary>
    private readonly record struct Hop<T>(Uri? Redirect, T Result);

    private static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && a.Port == b.Port && Canonical(a.IdnHost) == Canonical(b.IdnHost);

    // The failures of one hop, as the callers expect them: a step's timeout, a refusal raised in the connect callback.
    private static async Task<T> GuardAsync<T>(FetchPhase phase, CancellationToken ct, Func<Task<T>> hop)
    {
        try
        {
            return await hop();
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw phase.TimedOut();
        }
        catch (HttpRequestException e) when (e.InnerException is BlockedUrlException or OutboundTimeoutException)
        {
            // Raised in the connect callback; the handler wraps it.
            throw e.InnerException;
        }
        catch (IOException) when (phase.Token.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw phase.TimedOut();
        }
    }

    private async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, FetchPhase phase, long maxBytes)
    {
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            throw new BlockedUrlException($"the resource is larger than {maxBytes} bytes");
        }
        phase.Enter("reading the response body", _options.Body);
        return await ReadAsync(response, maxBytes, phase.Token);
    }

    private static async Task<byte[]> ReadAsync(HttpResponseMessage response, long maxBytes, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int n;
        while ((n = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > maxBytes)
            {
                throw new BlockedUrlException($"the resource is larger than {maxBytes} bytes");
            }
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }

    private static FetchPhase? Phase(HttpRequestMessage request) => request.Options.TryGetValue(FetchPhase.Key, out var phase) ? phase : null;

    public static void CheckScheme(Uri url)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new BlockedUrlException($"only http and https URLs can be fetched (got '{(url.IsAbsoluteUri ? url.Scheme : "relative")}')");
        }
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            throw new BlockedUrlException("URLs with credentials are not fetched");
        }
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, IReadOnlySet<string>? allowHosts, CancellationToken ct)
    {
        var phase = Phase(context.InitialRequestMessage);
        var host = Canonical(context.DnsEndPoint.Host);
        Func<IPAddress, bool> allowed = allowHosts?.Contains(host) == true ? a => !IsMetadata(a) : _allowed;
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            // Every IPv4 spelling (2130706433, 0x7f.0.0.1, 0177.0.0.1, 127.1) parses to the one address it names.
            addresses = [literal];
        }
        else
        {
            phase?.Enter("DNS resolution", _options.Dns);
            using var dns = CancellationTokenSource.CreateLinkedTokenSource(ct);
            dns.CancelAfter(_options.Dns);
            try
            {
                // WaitAsync as well: a resolver that ignores cancellation must not hold the fetch.
                addresses = await _resolve(host, dns.Token).WaitAsync(_options.Dns, ct);
            }
            catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                throw new OutboundTimeoutException($"DNS resolution for '{host}' did not complete within {_options.DnsTimeoutSeconds:0.###} s");
            }
        }
        // Connect only to an address that was checked: no second lookup an attacker's DNS could answer differently.
        var target = addresses.Length > 0 && addresses.All(allowed) ? addresses[0]
            : throw new BlockedUrlException($"'{host}' resolves to an address Mulan does not fetch from (loopback, private, link-local or metadata)");
        phase?.Enter("connecting", _options.Connect);
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(ct);
            connect.CancelAfter(_options.Connect);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(target, context.DnsEndPoint.Port), connect.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new OutboundTimeoutException($"connecting to '{host}' ({target}) did not complete within {_options.ConnectTimeoutSeconds:0.###} s");
            }
            phase?.Enter("the TLS handshake", _options.Tls);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The host as it is resolved: without brackets, without the root's trailing dot, lower case.</summary>
    public static string Canonical(string host)
    {
        var h = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return (h.EndsWith('.') ? h[..^1] : h).ToLowerInvariant();
    }

    /// <summary>True only for globally routable unicast addresses. IPv6 forms that carry an IPv4 address (mapped,
    /// compatible, NAT64, 6to4) are judged by the IPv4 address they carry, or refused when it cannot be known (Teredo).</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && Embedded(address) is { } carried)
        {
            return IsPublicV4(carried);
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return IsPublicV4(address);
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6Any))
        {
            return false;
        }
        var b = address.GetAddressBytes();
        return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal ||
                 (b[0] == 0xfd && b[1] == 0x00 && b[2] == 0x0e && b[3] == 0xc2) || // fd00:ec2::254, AWS metadata over IPv6 (inside fc00::/7 too)
                 (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) || // documentation
                 (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) || // Teredo: the IPv4 server and client are obfuscated
                 (b[0] == 0x01 && b[1] == 0x00 && b.AsSpan(2, 6).IndexOfAnyExcept((byte)0) < 0) || // 100::/64, discard
                 b[0] == 0x00); // ::/8, reserved (what is left of it after the forms above)
    }

    /// <summary>The IPv4 address an IPv6 address carries, when it is one of the forms that do: <c>::ffff:a.b.c.d</c> (mapped),
    /// <c>::a.b.c.d</c> (compatible), <c>64:ff9b::a.b.c.d</c> and <c>64:ff9b:1::/48</c> (NAT64), <c>2002:AABB:CCDD::</c> (6to4).</summary>
    private static IPAddress? Embedded(IPAddress v6)
    {
        var b = v6.GetAddressBytes();
        if (v6.IsIPv4MappedToIPv6)
        {
            return v6.MapToIPv4();
        }
        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !IPAddress.IsLoopback(v6) && !v6.Equals(IPAddress.IPv6Any))
        {
            return new IPAddress(b.AsSpan(12, 4));
        }
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
        {
            // 64:ff9b::/96 and the local-use 64:ff9b:1::/48: a NAT64 gateway turns them into IPv4 connections.
            return new IPAddress(b.AsSpan(12, 4));
        }
        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return new IPAddress(b.AsSpan(2, 4));
        }
        return null;
    }

    private static bool IsPublicV4(IPAddress address)
    {
        var b = address.GetAddressBytes();
        return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) ||
                 (b[0] == 169 && b[1] == 254) || (b[0] == 172 && b[1] >= 16 && b[1] <= 31) || (b[0] == 192 && b[1] == 168) ||
                 (b[0] == 192 && b[1] == 0 && b[2] == 0) || (b[0] == 192 && b[1] == 0 && b[2] == 2) || (b[0] == 198 && b[1] is 18 or 19) ||
                 (b[0] == 198 && b[1] == 51 && b[2] == 100) || (b[0] == 203 && b[1] == 0 && b[2] == 113) || b[0] >= 224);
    }

    /// <summary>Cloud instance metadata services (AWS, GCP, Azure, Alibaba Cloud, and AWS over IPv6), in any spelling that
    /// carries them: refused even for a host an administrator allowed, since they hand out the machine's own credentials.</summary>
    public static bool IsMetadata(IPAddress address)
    {
        var v4 = address.AddressFamily == AddressFamily.InterNetworkV6 && Embedded(address) is { } carried ? carried : address;
        var b = v4.GetAddressBytes();
        if (v4.AddressFamily == AddressFamily.InterNetwork)
        {
            return (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] == 100 && b[2] == 100 && b[3] == 200) || b[0] == 0;
        }
        return b[0] == 0xfd && b[1] == 0x00 && b[2] == 0x0e && b[3] == 0xc2;
    }

    public void Dispose()
    {
        _http.Dispose();
        foreach (var client in _allowing.Values.Where(c => c.IsValueCreated))
        {
            client.Value.Dispose();
        }
    }
}
