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
/// </summary>
public sealed class GuardedHttpClient : IDisposable
{
    public const int MaxRedirects = 5;
    private readonly HttpClient _http;
    private readonly Func<IPAddress, bool> _allowed;

    /// <param name="allowAddress">Overrides the address policy (tests on loopback only); null = the public-internet policy.</param>
    public GuardedHttpClient(TimeSpan timeout, Func<IPAddress, bool>? allowAddress = null)
    {
        _allowed = allowAddress ?? IsPublic;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = ConnectAsync,
        };
        _http = new HttpClient(handler) { Timeout = timeout };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Mulan/1.0 (+knowledge ingestion)");
    }

    /// <summary>Fetches a URL; returns the final URL, the media type and at most <paramref name="maxBytes"/> bytes.</summary>
    public async Task<(Uri Url, string? MediaType, byte[] Body)> GetAsync(Uri url, long maxBytes, CancellationToken ct)
    {
        var current = url;
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            CheckScheme(current);
            using var response = await _http.GetAsync(current, HttpCompletionOption.ResponseHeadersRead, ct);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                current = location.IsAbsoluteUri ? location : new Uri(current, location);
                continue;
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"the server answered HTTP {(int)response.StatusCode}", null, response.StatusCode);
            }
            if (response.Content.Headers.ContentLength > maxBytes)
            {
                throw new BlockedUrlException($"the resource is larger than {maxBytes} bytes");
            }
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
            return (current, response.Content.Headers.ContentType?.MediaType, buffer.ToArray());
        }
        throw new BlockedUrlException($"more than {MaxRedirects} redirects");
    }

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

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        // Connect only to an address that was checked: no second lookup an attacker's DNS could answer differently.
        var target = addresses.FirstOrDefault(_allowed)
            ?? throw new BlockedUrlException($"'{host}' resolves to an address Mulan does not fetch from (loopback, private, link-local or metadata)");
        if (addresses.Any(a => !_allowed(a)))
        {
            throw new BlockedUrlException($"'{host}' resolves to an address Mulan does not fetch from (loopback, private, link-local or metadata)");
        }
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(target, context.DnsEndPoint.Port), ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>True only for globally routable unicast addresses.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return false;
        }
        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) ||
                     (b[0] == 169 && b[1] == 254) || (b[0] == 172 && b[1] >= 16 && b[1] <= 31) || (b[0] == 192 && b[1] == 168) ||
                     (b[0] == 192 && b[1] == 0 && b[2] == 0) || (b[0] == 192 && b[1] == 0 && b[2] == 2) || (b[0] == 198 && b[1] is 18 or 19) ||
                     (b[0] == 198 && b[1] == 51 && b[2] == 100) || (b[0] == 203 && b[1] == 0 && b[2] == 113) || b[0] >= 224);
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal ||
                     (b[0] == 0xfd && b[1] == 0x00 && b[2] == 0x0e && b[3] == 0xc2) || // fd00:ec2::254, AWS metadata over IPv6 (inside fc00::/7 too)
                     (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) || // documentation
                     (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)); // NAT64 can reach private IPv4
        }
        return false;
    }

    public void Dispose() => _http.Dispose();
}
