using System.Globalization;

namespace Mulan.FakeVendor;

/// <summary>OpenAI-shaped error responses: <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal static class OpenAiErrors
{
    public sealed record Error(int Status, string Message, string Type, string? Code);

    // Deliberately never echoes the key, unlike the real vendor: tests assert that keys do not leak.
    public static readonly Error InvalidKey = new(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");

    public static Error BadRequest(string message) => new(400, message, "invalid_request_error", null);

    public static Error NotFound(string method, string path) => new(404, $"Invalid URL ({method} {path})", "invalid_request_error", null);

    /// <summary>The error a real vendor would send with this status (for <c>fail=CODE</c> and status faults).</summary>
    public static Error ForStatus(int status) => status switch
    {
        400 => new(400, "Invalid request (injected by fake vendor).", "invalid_request_error", null),
        401 => InvalidKey,
        403 => new(403, "You are not allowed to sample from this model.", "invalid_request_error", "permission_denied"),
        404 => new(404, "The model does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"),
        408 => new(408, "Request timed out.", "timeout", null),
        413 => new(413, "Request too large.", "invalid_request_error", "request_too_large"),
        429 => new(429, "Rate limit reached", "requests", "rate_limit_exceeded"),
        500 => new(500, "The server had an error while processing your request. Sorry about that!", "server_error", null),
        502 => new(502, "Bad gateway.", "server_error", null),
        503 => new(503, "The engine is currently overloaded, please try again later.", "server_error", null),
        504 => new(504, "Gateway timeout.", "server_error", null),
        >= 500 => new(status, "Upstream server error (injected by fake vendor).", "server_error", null),
        _ => new(status, "Request failed (injected by fake vendor).", "invalid_request_error", null),
    };

    public static async Task WriteAsync(HttpContext context, Error error, int? retryAfterSeconds = null)
    {
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        if (retryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        var buffer = Json.Scratch();
        var json = Json.Writer(buffer);
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", error.Message);
        json.WriteString("type", error.Type);
        json.WriteNull("param");
        if (error.Code is null)
        {
            json.WriteNull("code");
        }
        else
        {
            json.WriteString("code", error.Code);
        }

        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
        await Http.WriteBodyAsync(context, buffer);
    }
}
