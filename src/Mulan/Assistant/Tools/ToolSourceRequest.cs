using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Hosting.Problems;

namespace Mulan.Assistant.Tools;

/// <summary>A <c>POST /api/tools</c> body, read field by field so that every error names its JSON path.</summary>
/// <param name="OpenApi">the document as text (JSON or YAML); an object in the body is kept as its JSON text.</param>
public sealed record ToolSourceRequest(string Name, string? Workspace, string? OpenApi, McpEndpoint? Mcp, string? BaseUrl, IReadOnlyList<string> AllowHosts,
    string? CredentialHeader, string? CredentialValue, IReadOnlyList<string>? Operations, IReadOnlyDictionary<string, bool>? SideEffects, int TimeoutSeconds)
{
    public const int DefaultTimeoutSeconds = 30;
    public const int MaxTimeoutSeconds = 300;

    private static readonly HashSet<string> Fields =
        ["name", "workspace", "openapi", "mcp", "baseUrl", "allowHosts", "credentials", "operations", "sideEffects", "timeoutSeconds"];

    /// <returns>null when <paramref name="errors"/> says what is wrong.</returns>
    public static ToolSourceRequest? Read(JsonObject body, Dictionary<string, string[]> errors)
    {
        foreach (var (key, _) in body)
        {
            if (!Fields.Contains(key))
            {
                errors.AddError($"$.{key}", $"unknown field; the fields are {string.Join(", ", Fields)}");
            }
        }
        var name = String(body, "name", errors, 64);
        if (name is null && !errors.ContainsKey("$.name"))
        {
            errors.AddError("$.name", "required: the tool source's name (letters, digits, _ and -; at most 64)");
        }
        else if (name is not null && !ToolNames.IsValid(name))
        {
            errors.AddError("$.name", "must be letters, digits, _ and - only, at most 64");
        }
        var workspace = String(body, "workspace", errors, 200);
        string? openApi = body["openapi"] switch
        {
            null => null,
            JsonObject o => o.ToJsonString(),
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            _ => Error(errors, "$.openapi", "must be the OpenAPI 3 document: a JSON object, or its JSON or YAML text"),
        };
        var mcp = ReadMcp(body["mcp"], errors);
        if ((openApi is null) == (mcp is null) && !errors.ContainsKey("$.openapi") && !errors.Keys.Any(k => k.StartsWith("$.mcp", StringComparison.Ordinal)))
        {
            errors.AddError("$", "give exactly one of openapi (an OpenAPI 3 document) and mcp ({url} or {command, args})");
        }
        var baseUrl = String(body, "baseUrl", errors, 2000);
        if (baseUrl is not null && mcp is not null)
        {
            errors.AddError("$.baseUrl", "only an openapi source has a base URL (an mcp source has its url)");
        }
        var allowHosts = Strings(body, "allowHosts", errors, 20, 253) ?? [];
        for (var i = 0; i < allowHosts.Count; i++)
        {
            if (Uri.CheckHostName(allowHosts[i].Trim('[', ']')) == UriHostNameType.Unknown)
            {
                errors.AddError($"$.allowHosts[{i}]", "must be a host name or IP address, without scheme, port or path");
            }
        }
        var (header, value) = ReadCredentials(body["credentials"], errors);
        if (mcp?.Command is not null)
        {
            // A stdio server is reached through no network and sent no headers: these would be silently ignored.
            foreach (var field in new[] { "credentials", "allowHosts" }.Where(f => body[f] is not null))
            {
                errors.AddError($"$.{field}", "only a source reached over HTTP (openapi, or mcp with a url) has it");
            }
        }
        var operations = Strings(body, "operations", errors, 500, 200);
        if (operations is not null && mcp is not null)
        {
            errors.AddError("$.operations", "only an openapi source has operations");
        }
        IReadOnlyDictionary<string, bool>? sideEffects = null;
        if (body["sideEffects"] is JsonObject effects)
        {
            var map = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach (var (tool, flag) in effects)
            {
                if (flag is JsonValue f && f.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
                {
                    map[tool] = f.GetValue<bool>();
                }
                else
                {
                    errors.AddError($"$.sideEffects.{tool}", "must be true or false");
                }
            }
            sideEffects = map;
        }
        else if (body["sideEffects"] is not null)
        {
            errors.AddError("$.sideEffects", "must be an object of tool names and true or false");
        }
        int timeout = DefaultTimeoutSeconds;
        if (body["timeoutSeconds"] is { } t)
        {
            if (t is JsonValue tv && tv.GetValueKind() == JsonValueKind.Number && tv.TryGetValue<int>(out var seconds) && seconds is >= 1 and <= MaxTimeoutSeconds)
            {
                timeout = seconds;
            }
            else
            {
                errors.AddError("$.timeoutSeconds", $"must be a whole number between 1 and {MaxTimeoutSeconds}");
            }
        }
        return errors.Count > 0 ? null
            : new ToolSourceRequest(name!, workspace, openApi, mcp, baseUrl, allowHosts, header, value, operations, sideEffects, timeout);
    }

    private static string? Error(Dictionary<string, string[]> errors, string path, string message)
    {
        errors.AddError(path, message);
        return null;
    }

    private static McpEndpoint? ReadMcp(JsonNode? node, Dictionary<string, string[]> errors)
    {
        if (node is null)
        {
            return null;
        }
        if (node is not JsonObject o)
        {
            Error(errors, "$.mcp", "must be {url} (streamable HTTP) or {command, args} (stdio)");
            return null;
        }
        foreach (var (key, _) in o)
        {
            if (key is not ("url" or "command" or "args"))
            {
                errors.AddError($"$.mcp.{key}", "unknown field; the fields are url, command, args");
            }
        }
        var url = String(o, "url", errors, 2000, "$.mcp.");
        var command = String(o, "command", errors, 1000, "$.mcp.");
        var args = Strings(o, "args", errors, 100, 4000, "$.mcp.");
        if ((url is null) == (command is null))
        {
            errors.AddError("$.mcp", "give exactly one of url and command");
            return null;
        }
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps)))
        {
            errors.AddError("$.mcp.url", "must be an absolute http or https URL");
        }
        if (url is not null && args is not null)
        {
            errors.AddError("$.mcp.args", "only a command has arguments");
        }
        return new McpEndpoint(url, command, args);
    }

    private static (string? Header, string? Value) ReadCredentials(JsonNode? node, Dictionary<string, string[]> errors)
    {
        if (node is null)
        {
            return (null, null);
        }
        if (node is not JsonObject o)
        {
            Error(errors, "$.credentials", "must be {header, value}");
            return (null, null);
        }
        var header = String(o, "header", errors, 100, "$.credentials.");
        // The value is checked for its shape only: it never appears in an error.
        var value = o["value"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        if (header is null || !System.Text.RegularExpressions.Regex.IsMatch(header, "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"))
        {
            errors.AddError("$.credentials.header", "required: an HTTP header name, e.g. X-Api-Key or Authorization");
        }
        if (string.IsNullOrEmpty(value) || value.Length > 8000 || value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            errors.AddError("$.credentials.value", "required: a string of one line, at most 8,000 characters");
        }
        return (header, value);
    }

    private static string? String(JsonObject o, string field, Dictionary<string, string[]> errors, int max, string prefix = "$.")
    {
        if (o[field] is null)
        {
            return null;
        }
        if (o[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } s && s.Length <= max)
        {
            return s;
        }
        errors.AddError(prefix + field, $"must be a non-empty string of at most {max} characters");
        return null;
    }

    private static List<string>? Strings(JsonObject o, string field, Dictionary<string, string[]> errors, int maxItems, int maxLength, string prefix = "$.")
    {
        if (o[field] is null)
        {
            return null;
        }
        if (o[field] is not JsonArray a || a.Count > maxItems)
        {
            errors.AddError(prefix + field, $"must be an array of at most {maxItems} strings");
            return null;
        }
        var list = new List<string>();
        for (var i = 0; i < a.Count; i++)
        {
            if (a[i] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } s && s.Length <= maxLength)
            {
                list.Add(s);
            }
            else
            {
                errors.AddError($"{prefix}{field}[{i}]", $"must be a non-empty string of at most {maxLength} characters");
            }
        }
        return list;
    }
}
