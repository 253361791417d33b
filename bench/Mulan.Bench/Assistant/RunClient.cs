using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Bench.Hosting;

namespace Mulan.Bench.Assistant;

/// <summary>
/// Starts runs and follows them as a client would: <c>POST /api/apps/{id}/runs</c>, then the run's SSE stream until
/// <c>event: done</c> (no polling interval in the figure), then <c>GET /api/runs/{id}</c> for the step trace. Also the
/// reference calls: a chat completion on the run's route and a knowledge-base search.
/// </summary>
internal sealed class RunClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly HttpClient _http;
    private readonly AuthenticationHeaderValue _admin = new("Bearer", Arms.MulanArm.AdminKey);
    private readonly AssistantServer _server;

    public RunClient(AssistantServer server)
    {
        _server = server;
        var handler = new SocketsHttpHandler
        {
            // Two connections a run (the POST's, then the SSE stream's) at 32 runs at once, and the references.
            MaxConnectionsPerServer = 512,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        _http = new HttpClient(handler)
        {
            BaseAddress = server.Origin,
            Timeout = TimeSpan.FromSeconds(120),
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>One run from POST to <c>event: done</c>; the trace is read afterwards with <see cref="TraceAsync"/>.</summary>
    public async Task<(string Id, double ClientMs)> RunAsync(string input, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        string id;
        using (var post = Request(HttpMethod.Post, $"api/apps/{_server.AppId}/runs", JsonSerializer.SerializeToUtf8Bytes(new { input }), _admin))
        using (var response = await _http.SendAsync(post, HttpCompletionOption.ResponseContentRead, ct))
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new BenchException($"POST /api/apps/{_server.AppId}/runs answered {(int)response.StatusCode}: {Clip(text)}");
            }

            id = JsonNode.Parse(text)!["id"]!.GetValue<string>();
        }

        using var events = Request(HttpMethod.Get, $"api/runs/{id}/events", null, _admin);
        using var stream = await _http.SendAsync(events, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!stream.IsSuccessStatusCode)
        {
            throw new BenchException($"GET /api/runs/{id}/events answered {(int)stream.StatusCode}");
        }

        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line == "event: done")
            {
                return (id, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        throw new BenchException($"the event stream of run {id} ended without event: done");
    }

    public async Task<RunTrace> TraceAsync(string id, double clientMs, CancellationToken ct)
    {
        using var get = Request(HttpMethod.Get, $"api/runs/{id}", null, _admin);
        using var response = await _http.SendAsync(get, HttpCompletionOption.ResponseContentRead, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new BenchException($"GET /api/runs/{id} answered {(int)response.StatusCode}: {Clip(text)}");
        }

        return RunTrace.Parse(JsonNode.Parse(text)!.AsObject(), clientMs);
    }

    /// <summary>A POST of a prebuilt body with the server's virtual key: the client-observed ms, the gateway's request id, or an error.</summary>
    public async Task<(double Ms, string? RequestId, string? Error)> TimedPostAsync(string path, byte[] body, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Post, path, body, _server.Mulan.Authorization);
        var started = Stopwatch.GetTimestamp();
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var id = response.Headers.TryGetValues("x-mulan-request-id", out var ids) ? ids.FirstOrDefault() : null;
        return response.IsSuccessStatusCode ? (ms, id, null) : (ms, id, $"HTTP {(int)response.StatusCode}: {Clip(text)}");
    }

    /// <summary>
    /// Every usage record's latencyMs by request id: the gateway's own clock from the request's arrival to its record,
    /// fractional, where a step's durationMs is whole ms. Read after the measured part (1,000 records a page).
    /// </summary>
    public async Task<Dictionary<string, double>> UsageLatenciesAsync(CancellationToken ct)
    {
        var latencies = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var page = 1; ; page++)
        {
            using var get = Request(HttpMethod.Get, $"api/usage?pageSize=1000&page={page}", null, _admin);
            using var response = await _http.SendAsync(get, HttpCompletionOption.ResponseContentRead, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new BenchException($"GET /api/usage answered {(int)response.StatusCode}: {Clip(text)}");
            }

            var records = JsonNode.Parse(text)!["records"]!.AsArray();
            foreach (var record in records)
            {
                latencies[record!["requestId"]!.GetValue<string>()] = record["latencyMs"]!.GetValue<double>();
            }

            if (records.Count < 1000)
            {
                return latencies;
            }
        }
    }

    public void Dispose() => _http.Dispose();

    private static HttpRequestMessage Request(HttpMethod method, string path, byte[]? body, AuthenticationHeaderValue? authorization)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body) { Headers = { ContentType = Json } };
        }

        request.Headers.Authorization = authorization;
        return request;
    }

    private static string Clip(string text) => text.Length > 300 ? text[..300] : text;
}
