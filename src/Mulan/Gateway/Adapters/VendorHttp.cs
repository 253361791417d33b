using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.Gateway.Adapters;

/// <summary>HTTP plumbing shared by the adapters.</summary>
public static class VendorHttp
{
    public static Task<HttpResponseMessage> SendAsync(AdapterCall call, HttpRequestMessage request, CancellationToken ct)
    {
        request.Version = System.Net.HttpVersion.Version11;
        request.Options.Set(Forwarding.UpstreamCaller.ConnectTimeoutOption, call.ConnectTimeout);
        // Lets a vendor-side log (and the test vendors' ledgers) be matched to Mulan's usage record.
        request.Headers.TryAddWithoutValidation("x-mulan-request-id", call.RequestId);
        foreach (var (name, value) in call.Deployment.Provider.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return call.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    public static HttpContent JsonContent(JsonNode body) =>
        new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, Wire.WireJson.Serializer)) { Headers = { ContentType = new("application/json") } };

    /// <summary>The whole body as JSON, at most <paramref name="limit"/> bytes; null when it is not JSON.</summary>
    /// <exception cref="VendorError">the body is larger than the limit.</exception>
    public static async Task<JsonNode?> ReadJsonAsync(HttpResponseMessage response, long limit, CancellationToken ct)
    {
        var bytes = await GatewayProxy.ReadLimitedAsync(response.Content, limit, ct)
            ?? throw VendorError.Server($"the provider's response exceeded {limit} bytes");
        try
        {
            return JsonNode.Parse(bytes);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta ?? (response.Headers.RetryAfter?.Date is { } at ? at - DateTimeOffset.UtcNow : null);

    public static string Describe(JsonNode? body, int status) =>
        body?.ToJsonString() is { } text ? (text.Length > 300 ? text[..300] : text) : $"HTTP {status}";

    /// <summary>
    /// The common end of an HTTP adapter: an error status is mapped by <paramref name="mapError"/> (status, JSON body or
    /// null, Retry-After); a stream is translated lazily by <paramref name="stream"/> (null when the answer is one body);
    /// a body is translated by <paramref name="translate"/>, which may throw <see cref="VendorError"/> for an error it finds
    /// inside a 200 body.
    /// </summary>
    public static async Task<HttpResponseMessage> AnswerAsync(AdapterCall call, HttpResponseMessage response,
        Func<int, JsonNode?, TimeSpan?, VendorError> mapError, Func<Stream, IAsyncEnumerable<OpenAIChunk>>? stream,
        Func<JsonObject, JsonObject> translate, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                var error = await ReadJsonAsync(response, 64 * 1024, ct);
                return mapError((int)response.StatusCode, error, RetryAfter(response)).ToResponse();
            }
        }
        if (stream is not null)
        {
            var body = await response.Content.ReadAsStreamAsync(ct);
            return await AdapterResponse.StreamAsync(stream(body), response, ct);
        }
        using (response)
        {
            try
            {
                var json = await ReadJsonAsync(response, call.MaxResponseBytes, ct);
                return AdapterResponse.Json(translate(json as JsonObject ?? throw VendorError.Server("the provider answered with a body that is not JSON")));
            }
            catch (VendorError e)
            {
                return e.ToResponse();
            }
        }
    }
}
