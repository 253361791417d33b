using System.Globalization;
using System.Net;

namespace Mulan.Gateway.Adapters;

/// <summary>
/// A vendor failure in the gateway's canonical terms, whichever way the vendor said it (HTTP status, a code
/// in a 200 body, a WebSocket frame). Adapters throw it from stream translators and turn it into a response
/// with <see cref="ToResponse"/>; <see cref="Wire.UpstreamFailure"/> then decides retry, fallback or answer.
/// </summary>
public sealed class VendorError(int status, string code, string message, TimeSpan? retryAfter = null) : Exception(message)
{
    public const string RateLimited = "rate_limit_exceeded";
    public const string QuotaExhausted = "insufficient_quota";
    public const string ContentFilter = "content_filter";
    public const string AuthFailed = "invalid_api_key";
    public const string Overloaded = "overloaded";
    public const string ServerError = "server_error";
    public const string InvalidRequest = "invalid_request";
    public const string ModelNotFound = "model_not_found";
    public const string Unsupported = "unsupported_endpoint";

    public int Status { get; } = status;
    public string Code { get; } = code;
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public static VendorError RateLimit(string message, TimeSpan? retryAfter = null) => new(429, RateLimited, message, retryAfter);
    public static VendorError Quota(string message) => new(429, QuotaExhausted, message);
    public static VendorError Filtered(string message) => new(400, ContentFilter, message);
    public static VendorError Auth(string message) => new(401, AuthFailed, message);
    public static VendorError Busy(string message, TimeSpan? retryAfter = null) => new(503, Overloaded, message, retryAfter);
    public static VendorError Server(string message) => new(500, ServerError, message);
    public static VendorError BadRequest(string message) => new(400, InvalidRequest, message);
    public static VendorError NoModel(string message) => new(404, ModelNotFound, message);
    public static VendorError NotOffered(string what) => new(501, Unsupported, $"this provider does not offer {what}");

    /// <summary>The canonical error for an HTTP status when the vendor's body says nothing more specific.</summary>
    public static VendorError ForStatus(int status, string message, TimeSpan? retryAfter = null) => status switch
    {
        401 or 403 => new(status, AuthFailed, message),
        404 => NoModel(message),
        408 or 504 => new(status, ServerError, message, retryAfter),
        429 => RateLimit(message, retryAfter),
        >= 500 => new(status, status == 503 ? Overloaded : ServerError, message, retryAfter),
        _ => new(status is >= 400 and < 500 ? status : 502, InvalidRequest, message),
    };

    public HttpResponseMessage ToResponse()
    {
        var body = new Wire.OpenAIError(Status, Message, Code == InvalidRequest ? "invalid_request_error" : "upstream_error", null, Code).ToJson();
        var response = new HttpResponseMessage((HttpStatusCode)Status)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } },
        };
        if (RetryAfter is { } after)
        {
            response.Headers.TryAddWithoutValidation("Retry-After", Math.Ceiling(after.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        }
        return response;
    }
}
