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
    /// <summary>What the gateway does after a failed attempt.</summary>
    public enum Next
    {
        /// <summary>The request itself is at fault (or its content was refused): answer the client now.</summary>
        Answer,
        /// <summary>A passing failure (rate limit, overload, 5xx): retry this deployment (if allowed), then fall back.</summary>
        Retry,
        /// <summary>This deployment cannot serve anyone (credentials, exhausted quota, endpoint not offered): fall back at once.</summary>
        FallBack,
    }

    // Vendor codes that mean "the account has no money or quota left", which a retry cannot fix: OpenAI and Azure
    // insufficient_quota, Moonshot exceeded_current_quota_error, Zhipu 1113, DashScope Arrearage (HTTP 400).
    private static readonly HashSet<string> QuotaCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "insufficient_quota", "exceeded_current_quota_error", "1113", "Arrearage", "billing_hard_limit_reached",
    };

    // Vendor codes for content refused by a moderation filter: Azure content_filter, DashScope data_inspection_failed
    // (native DataInspectionFailed), Zhipu 1301, Moonshot content_filter.
    private static readonly HashSet<string> FilterCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "content_filter", "data_inspection_failed", "DataInspectionFailed", "1301", "content_policy_violation",
    };

    public static (OpenAIError Error, Next Next) FromResponse(Deployment deployment, HttpStatusCode status, ReadOnlySpan<byte> body, TimeSpan? retryAfter)
    {
        var code = (int)status;
        var (vendorMessage, vendorCode, vendorType) = ReadError(body);
        var reason = Scrub(deployment.Provider, vendorMessage ?? status.ToString());
        var where = $"provider '{deployment.Provider.Name}' (model '{deployment.VendorModel}')";
        if (code == 402 || IsOneOf(QuotaCodes, vendorCode, vendorType))
        {
            return (new OpenAIError(502, $"Every deployment failed; last: {where} has no quota or balance left (HTTP {code}): {reason}",
                "upstream_error", null, "upstream_quota_exhausted"), Next.FallBack);
        }
        if (IsOneOf(FilterCodes, vendorCode, vendorType))
        {
            return (new OpenAIError(400, $"The provider's content filter refused the request: {reason}", "invalid_request_error", null, "content_filter"), Next.Answer);
        }
        return code switch
        {
            400 or 404 or 409 or 413 or 422 => (new OpenAIError(code, $"The upstream rejected the request: {reason}", "invalid_request_error", null,
                vendorCode is Adapters.VendorError.InvalidRequest ? null : vendorCode), Next.Answer),
            401 or 403 => (new OpenAIError(502, $"{where} refused Mulan's credentials (HTTP {code}); check the provider's apiKey.", "upstream_error", null, "upstream_auth_failed"), Next.FallBack),
            429 => (new OpenAIError(503, $"Every deployment failed; last: {where} is rate limited (HTTP 429): {reason}", "upstream_error", null, "upstream_rate_limited")
            {
                RetryAfterSeconds = retryAfter is { } r ? (int)Math.Ceiling(r.TotalSeconds) : null,
            }, Next.Retry),
            501 => (new OpenAIError(502, $"Every deployment failed; last: {where}: {reason}", "upstream_error", null, vendorCode ?? "upstream_error"), Next.FallBack),
            503 or 529 => (new OpenAIError(503, $"Every deployment failed; last: {where} is overloaded (HTTP {code}): {reason}", "upstream_error", null, "upstream_overloaded")
            {
                RetryAfterSeconds = retryAfter is { } r ? (int)Math.Ceiling(r.TotalSeconds) : null,
            }, Next.Retry),
            408 or 504 => (new OpenAIError(504, $"Every deployment failed; last: {where} timed out (HTTP {code}): {reason}", "upstream_error", null, "upstream_timeout"), Next.Retry),
            425 or >= 500 => (new OpenAIError(502, $"Every deployment failed; last: {where} answered HTTP {code}: {reason}", "upstream_error", null, "upstream_error"), Next.Retry),
            _ => (new OpenAIError(502, $"Every deployment failed; last: {where} answered HTTP {code}: {reason}", "upstream_error", null, "upstream_error"), Next.Answer),
        };
    }

    private static bool IsOneOf(HashSet<string> codes, string? code, string? type) =>
        (code is not null && codes.Contains(code)) || (type is not null && codes.Contains(type));

    public static OpenAIError Timeout(Deployment deployment) =>
        new(504, $"Every deployment failed; last: provider '{deployment.Provider.Name}' did not answer in time.", "upstream_error", null, "upstream_timeout");

    public static OpenAIError Unreachable(Deployment deployment, Exception e) =>
        new(502, $"Every deployment failed; last: provider '{deployment.Provider.Name}' could not be reached: {Scrub(deployment.Provider, e.Message)}",
            "upstream_error", null, "upstream_unreachable");

    public static OpenAIError AllDisabled(ModelRoute route) =>
        new(502, $"Every deployment of model '{route.Name}' is disabled.", "upstream_error", null, "no_available_deployment");

    /// <summary>The provider's credentials removed, cut to 500 characters (for messages).</summary>
    public static string Scrub(Provider provider, string text)
    {
        text = WithoutSecrets(provider, text);
        return text.Length > 500 ? text[..500] : text;
    }

    /// <summary>The provider's key, and each long enough part of a composite key, replaced by <c>***</c>.</summary>
    public static string WithoutSecrets(Provider provider, string text)
    {
        if (!string.IsNullOrEmpty(provider.ApiKey) && provider.ApiKey.Length >= 4)
        {
            text = text.Replace(provider.ApiKey, "***", StringComparison.Ordinal);
            // Composite credentials (Tencent's SecretId:SecretKey, iFlytek's APPID:APIKey:APISecret): a vendor may
            // quote one part alone. Parts too short to be secret (a short app id) are left, so messages stay readable.
            foreach (var part in provider.ApiKey.Split(':'))
            {
                if (part.Length >= 8)
                {
                    text = text.Replace(part, "***", StringComparison.Ordinal);
                }
            }
        }
        return text;
    }

    private static (string? Message, string? Code, string? Type) ReadError(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            var error = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) ? e : root;
            if (error.ValueKind == JsonValueKind.String)
            {
                return (error.GetString(), null, null);
            }
            if (error.ValueKind != JsonValueKind.Object)
            {
                return (null, null, null);
            }
            var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            var code = error.TryGetProperty("code", out var c) ? c.ValueKind switch
            {
                JsonValueKind.String => c.GetString(),
                JsonValueKind.Number => c.GetRawText(),
                _ => null,
            } : null;
            var type = error.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            return (message, code, type);
        }
        catch (JsonException)
        {
            return (null, null, null);
        }
    }
}
