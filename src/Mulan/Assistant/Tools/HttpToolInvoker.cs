using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Outbound;

namespace Mulan.Assistant.Tools;

/// <summary>
/// Calls an imported OpenAPI operation through the guarded client: arguments go into the path, the query, headers and
/// a JSON body as the operation says; the stored credential is added here, after the model is done with the request, so
/// it is never an argument, never in the output (echoes are redacted) and never in an error. Every failure (refused
/// host, timeout, unreachable, too large, malformed) is a failed result, within the source's time limit.
/// </summary>
public sealed class HttpToolInvoker(GuardedHttpClient web, ToolCredentials credentials)
{
    /// <summary>The most of a response body read (1 MiB); a larger answer is a failed call.</summary>
    public const long MaxResponseBytes = 1024 * 1024;

    public async Task<ToolResult> CallAsync(ToolSource source, StoredTool tool, JsonObject arguments, CancellationToken ct)
    {
        var operation = tool.Http ?? throw new InvalidOperationException($"tool '{tool.Name}' is not an HTTP operation");
        var secret = credentials.Unprotect(source.ProtectedCredential);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(source.Definition.TimeoutSeconds));
        try
        {
            using var request = Build(source.Definition.BaseUrl!, operation, arguments);
            if (secret is not null && source.Definition.CredentialHeader is { } header)
            {
                request.Headers.Remove(header);
                request.Headers.TryAddWithoutValidation(header, secret);
            }
            var (status, mediaType, body) = await web.SendAsync(request, MaxResponseBytes, source.Definition.AllowHosts, timeout.Token);
            return ToolOutput.FromHttp(status, mediaType, body, secret);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return ToolResult.Failed($"no answer within {source.Definition.TimeoutSeconds} s");
        }
        catch (Exception e) when (e is BlockedUrlException or OutboundTimeoutException or HttpRequestException or ArgumentException or UriFormatException
            or FormatException)
        {
            var why = e switch
            {
                BlockedUrlException => "refused: ",
                OutboundTimeoutException => "timed out: ",
                HttpRequestException => "could not reach the service: ",
                _ => "bad arguments: ",
            };
            return ToolResult.Failed(ToolOutput.Redact(why + e.Message, secret));
        }
    }

    private static HttpRequestMessage Build(string baseUrl, HttpOperation operation, JsonObject arguments)
    {
        var path = operation.Path;
        var query = new StringBuilder();
        var headers = new List<(string, string)>();
        foreach (var p in operation.Parameters)
        {
            if (arguments[p.Name] is not { } value)
            {
                continue;
            }
            switch (p.In)
            {
                case "path":
                    var segment = Text(value);
                    if (segment is "" or "." or "..")
                    {
                        throw new ArgumentException($"path parameter '{p.Name}' must not be empty, '.' or '..'");
                    }
                    path = path.Replace("{" + p.Name + "}", Uri.EscapeDataString(segment), StringComparison.Ordinal);
                    break;
                case "query":
                    foreach (var item in value is JsonArray array ? array.Select(Text) : [Text(value)])
                    {
                        query.Append(query.Length == 0 ? '?' : '&').Append(Uri.EscapeDataString(p.Name)).Append('=').Append(Uri.EscapeDataString(item));
                    }
                    break;
                case "header":
                    var text = Text(value);
                    if (text.AsSpan().IndexOfAny('\r', '\n') >= 0)
                    {
                        throw new ArgumentException($"header '{p.Name}' must be one line");
                    }
                    headers.Add((p.Name, text));
                    break;
            }
        }
        // A path argument cannot climb out of the operation's path: it is escaped, and an unfilled template is refused.
        if (path.Contains('{', StringComparison.Ordinal))
        {
            throw new ArgumentException($"the path {operation.Path} needs every path parameter");
        }
        var request = new HttpRequestMessage(new HttpMethod(operation.Method), new Uri(baseUrl + path + query));
        request.Headers.Accept.ParseAdd("application/json, text/*;q=0.9, */*;q=0.1");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        if (operation.Body && arguments["body"] is { } body)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }
        return request;
    }

    private static string Text(JsonNode? value) => value switch
    {
        null => "",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        JsonValue v => v.ToJsonString().ToLower(CultureInfo.InvariantCulture),
        _ => value.ToJsonString(),
    };
}
