using System.Net;
using System.Net.Http.Headers;
using Mulan.Bench.Arms;

namespace Mulan.Bench.Load;

/// <summary>
/// The load generator's one HTTP client: pooled keep-alive HTTP/1.1 connections, no proxy, no decompression,
/// no redirects, nothing between the measurement and the socket but HttpClient itself.
/// </summary>
internal sealed class LoadClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly HttpClient _http;

    public LoadClient()
    {
        var handler = new SocketsHttpHandler
        {
            // Enough for 512 concurrent streams per arm plus the throughput pools of the others.
            MaxConnectionsPerServer = 4096,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        _http = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>One non-streaming request, body read in full. Null on a 200, otherwise what went wrong.</summary>
    public async Task<string?> ChatAsync(ArmTarget arm, CancellationToken ct)
    {
        try
        {
            using var request = Build(arm, Workload.Chat);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
            return response.StatusCode == HttpStatusCode.OK ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (HttpRequestException e)
        {
            return e.Message;
        }
    }

    /// <summary>One non-streaming request with its body, for the start-up check.</summary>
    public async Task<(int Status, string Body)> ChatWithBodyAsync(ArmTarget arm, CancellationToken ct)
    {
        using var request = Build(arm, Workload.Chat);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    /// <summary>Starts a streamed request; the caller owns the response and reads the body as it arrives.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(ArmTarget arm, Workload workload, CancellationToken ct)
    {
        using var request = Build(arm, workload);
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    /// <summary>A POST of a prebuilt JSON body to any URL (the apps benchmark varies the body per request); the caller owns the response.</summary>
    public async Task<HttpResponseMessage> PostAsync(Uri url, AuthenticationHeaderValue authorization, byte[] body, HttpCompletionOption completion, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = Json } },
        };
        request.Headers.Authorization = authorization;
        return await _http.SendAsync(request, completion, ct);
    }

    public void Dispose() => _http.Dispose();

    private static HttpRequestMessage Build(ArmTarget arm, Workload workload)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, arm.ChatUrl)
        {
            Content = new ByteArrayContent(arm.Body(workload)) { Headers = { ContentType = Json } },
        };
        request.Headers.Authorization = arm.Authorization;
        foreach (var (name, value) in arm.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }
}
