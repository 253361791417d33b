using System.Net;
using System.Text.Json;
using Mulan.Gateway.Catalog;

namespace Mulan.Gateway.Wire;

/// <summary>
/// Maps what an upstream answered to what the client sees. Client mistakes the vendor caught (400, 404, 422)
/// pass through; anything that means the deployment failed becomes 502/503/504 with the reason. The
/// provider's key is scrubbed from every message, since some vendors echo part of it.
/// </summary>
public static class UpstreamFailure
{
    public static OpenAIError FromResponse(Deployment deployment, HttpStatusCode status, ReadOnlySpan<byte> body, TimeSpan? retryAfter)
    {
        var code = (int)status;
        var (vendorMessage, vendorCode) = ReadError(body);
        var reason = Scrub(deployment.Provider, vendorMessage ?? status.ToString());
        var where = $"provider '{deployment.Provider.Name}' (model '{deployment.VendorModel}')";
        return code switch
        {
            400 or 404 or 409 or 413 or 422 => new OpenAIError(code, $"The upstream rejected the request: {reason}", "invalid_request_error", null, vendorCode),
            401 or 403 => new OpenAIError(502, $"{where} refused Mulan's credentials (HTTP {code}); check the provider's apiKey.", "upstream_error", null, "upstream_auth_failed"),
            429 => new OpenAIError(503, $"Every deployment failed; last: {where} is rate limited (HTTP 429): {reason}", "upstream_error", null, "upstream_rate_limited")
            {
                RetryAfterSeconds = retryAfter is { } r ? (int)Math.Ceiling(r.TotalSeconds) : null,
            },
            504 => new OpenAIError(504, $"Every deployment failed; last: {where} timed out (HTTP 504): {reason}", "upstream_error", null, "upstream_timeout"),
            _ => new OpenAIError(502, $"Every deployment failed; last: {where} answered HTTP {code}: {reason}", "upstream_error", null, "upstream_error"),
        };
    }

    public static OpenAIError Timeout(Deployment deployment) =>
        new(504, $"Every deployment failed; last: provider '{deployment.Provider.Name}' did not answer in time.", "upstream_error", null, "upstream_timeout");

    public static OpenAIError Unreachable(Deployment deployment, Exception e) =>
        new(502, $"Every deployment failed; last: provider '{deployment.Provider.Name}' could not be reached: {Scrub(deployment.Provider, e.Message)}",
            "upstream_error", null, "upstream_unreachable");

    public static OpenAIError NoAdapter(ModelRoute route) =>
        new(502, $"No deployment of model '{route.Name}' can be called by this version of Mulan (provider kinds: " +
            string.Join(", ", route.Deployments.Select(d => d.Provider.Kind.Name).Distinct()) + ").", "upstream_error", null, "no_available_deployment");

    public static string Scrub(Provider provider, string text)
    {
        if (!string.IsNullOrEmpty(provider.ApiKey) && provider.ApiKey.Length >= 4)
        {
            text = text.Replace(provider.ApiKey, "***", StringComparison.Ordinal);
        }
        return text.Length > 500 ? text[..500] : text;
    }

    private static (string? Message, string? Code) ReadError(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            var error = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) ? e : root;
            if (error.ValueKind == JsonValueKind.String)
            {
                return (error.GetString(), null);
            }
            if (error.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }
            var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            var code = error.TryGetProperty("code", out var c) ? c.ValueKind switch
            {
                JsonValueKind.String => c.GetString(),
                JsonValueKind.Number => c.GetRawText(),
                _ => null,
            } : null;
            return (message, code);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }
}
