using System.Text.Json;

namespace Mulan.Gateway.Wire;

/// <summary>An error as the OpenAI API shapes it: <c>{"error":{"message","type","param","code"}}</c>.</summary>
public sealed record OpenAIError(int Status, string Message, string Type, string? Param = null, string? Code = null)
{
    public int? RetryAfterSeconds { get; init; }

    public static OpenAIError InvalidKey() => new(401,
        "Incorrect or missing API key. Pass a Mulan virtual key as 'Authorization: Bearer mk-...'.", "invalid_request_error", null, "invalid_api_key");

    public static OpenAIError BadRequest(string message, string? param = null, string? code = null) =>
        new(400, message, "invalid_request_error", param, code);

    public static OpenAIError ModelNotFound(string model) =>
        new(404, $"The model '{model}' does not exist or is not configured on this gateway.", "invalid_request_error", "model", "model_not_found");

    public static OpenAIError ModelNotAllowed(string model) =>
        new(403, $"This key is not allowed to use the model '{model}'.", "permission_error", "model", "model_not_allowed");

    public static OpenAIError TooLarge(long limit) =>
        new(413, $"Request body too large: the limit is {limit} bytes.", "invalid_request_error", null, "request_too_large");

    public static OpenAIError NotFound(string path) =>
        new(404, $"Unknown endpoint '{path}'.", "invalid_request_error", null, "unknown_url");

    public async Task WriteAsync(HttpResponse response)
    {
        response.StatusCode = Status;
        response.ContentType = "application/json";
        if (RetryAfterSeconds is { } s)
        {
            response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        await response.Body.WriteAsync(ToJson());
    }

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream(256);
        using (var w = new Utf8JsonWriter(buffer, WireJson.Writer))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("message", Message);
            w.WriteString("type", Type);
            w.WriteString("param", Param);
            w.WriteString("code", Code);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
