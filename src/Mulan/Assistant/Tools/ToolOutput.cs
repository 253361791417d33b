using System.Text;
using System.Text.Json;

namespace Mulan.Assistant.Tools;

/// <summary>
/// What a model reads of a tool's answer: text, capped at <see cref="MaxCharacters"/>, with the source's credential
/// replaced wherever a service echoes it back. A body that is not text is described (type and size), never dumped.
/// </summary>
public static class ToolOutput
{
    /// <summary>16 KiB of characters: enough for a page of JSON, small enough for many steps in one context window.</summary>
    public const int MaxCharacters = 16 * 1024;

    /// <summary>The excerpt of a failed call's body that goes into its error.</summary>
    public const int ErrorExcerpt = 500;

    public const string Redacted = "[redacted]";

    public static string Redact(string text, string? secret) =>
        string.IsNullOrEmpty(secret) ? text : text.Replace(secret, Redacted, StringComparison.Ordinal);

    public static string Cap(string text, int max = MaxCharacters) =>
        text.Length <= max ? text : text[..max] + $"\n… (cut: {max} of {text.Length} characters shown)";

    public static bool IsText(string? mediaType) => mediaType is null
        || mediaType.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
        || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)
        || mediaType.Contains("xml", StringComparison.OrdinalIgnoreCase)
        || mediaType.Contains("javascript", StringComparison.OrdinalIgnoreCase)
        || mediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
        || mediaType.Contains("yaml", StringComparison.OrdinalIgnoreCase);

    /// <summary>An HTTP answer as a tool result: 2xx/3xx is a result, 4xx/5xx a failure with the status and an excerpt.</summary>
    public static ToolResult FromHttp(int status, string? mediaType, byte[] body, string? secret)
    {
        var line = $"HTTP {status} {Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)}".TrimEnd();
        string text;
        if (body.Length == 0)
        {
            text = "";
        }
        else if (!IsText(mediaType))
        {
            text = $"({mediaType} body of {body.Length} bytes, not shown)";
        }
        else
        {
            text = Redact(Encoding.UTF8.GetString(body), secret);
            if (status < 400 && mediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true && !IsJson(text))
            {
                return ToolResult.Failed($"{line}: the service answered malformed JSON");
            }
        }
        if (status >= 400)
        {
            return new ToolResult(false, Cap($"{line}\n{text}"), $"{line}" + (text.Length > 0 ? $": {Cap(text, ErrorExcerpt)}" : ""));
        }
        return new ToolResult(true, Cap(text.Length == 0 ? line : $"{line}\n{text}"), null);
    }

    private static bool IsJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
