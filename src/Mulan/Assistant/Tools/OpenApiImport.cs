using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace Mulan.Assistant.Tools;

/// <summary>
/// An OpenAPI 3 document (JSON or YAML) turned into tools: one per operation (all, or the chosen operationIds), named by
/// operationId (else method and path), with the path, query and header parameters and a JSON request body (as the
/// <c>body</c> argument) in one JSON Schema object. A call has a side effect unless its method is GET, HEAD or OPTIONS.
/// </summary>
public static class OpenApiImport
{
    /// <summary>Headers a tool never takes as an argument: the server sets them, or they carry credentials.</summary>
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Proxy-Authorization", "Cookie", "Accept", "Content-Type", "Content-Length", "Host", "X-Api-Key", "Api-Key",
    };

    /// <summary>What an import produced, or why not (<paramref name="Error"/>, for a 400).</summary>
    public sealed record Result(string? BaseUrl, IReadOnlyList<StoredTool> Tools, string? Error);

    /// <param name="text">the document as JSON or YAML.</param>
    /// <param name="baseUrl">overrides <c>servers[0].url</c>.</param>
    /// <param name="operations">operationIds to import; null: all.</param>
    /// <param name="credentialHeader">the header the stored credential goes in: never an argument.</param>
    public static Result Read(string text, string? baseUrl, IReadOnlyList<string>? operations, string? credentialHeader)
    {
        var settings = new OpenApiReaderSettings();
        settings.AddYamlReader();
        var format = text.TrimStart().StartsWith('{') ? OpenApiConstants.Json : OpenApiConstants.Yaml;
        ReadResult read;
        try
        {
            read = OpenApiDocument.Parse(text, format, settings);
        }
        catch (Exception e) when (e is OpenApiException or FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return Fail($"the OpenAPI document could not be read: {e.Message}");
        }
        if (read.Diagnostic?.SpecificationVersion is OpenApiSpecVersion.OpenApi2_0)
        {
            return Fail("the document is OpenAPI 2 (Swagger); convert it to OpenAPI 3 first");
        }
        if (read.Document is not { } document || read.Diagnostic?.Errors is { Count: > 0 })
        {
            var errors = read.Diagnostic?.Errors.Take(3).Select(e => string.IsNullOrEmpty(e.Pointer) ? e.Message : $"{e.Pointer}: {e.Message}") ?? [];
            return Fail($"not a valid OpenAPI 3 document: {string.Join("; ", errors)}");
        }
        var url = baseUrl ?? ServerUrl(document);
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(parsed.UserInfo))
        {
            return Fail(baseUrl is null
                ? "the document has no absolute http(s) server URL (servers[0].url); give baseUrl"
                : $"baseUrl must be an absolute http or https URL without credentials (got '{baseUrl}')");
        }
        var excluded = new HashSet<string>(ReservedHeaders, StringComparer.OrdinalIgnoreCase);
        if (credentialHeader is not null)
        {
            excluded.Add(credentialHeader);
        }
        foreach (var scheme in document.Components?.SecuritySchemes?.Values ?? [])
        {
            if (scheme.In == ParameterLocation.Header && scheme.Name is { } name)
            {
                excluded.Add(name);
            }
        }
        var all = Operations(document).ToList();
        if (all.Count == 0)
        {
            return Fail("the document describes no operations");
        }
        if (operations is not null)
        {
            var unknown = operations.Where(id => !all.Any(o => o.Operation.OperationId == id)).ToList();
            if (unknown.Count > 0)
            {
                return Fail($"no operation with operationId {string.Join(", ", unknown.Select(u => $"'{u}'"))} in the document");
            }
            all = [.. all.Where(o => operations.Contains(o.Operation.OperationId!))];
        }
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var tools = all.Select(o => ToTool(o.Method, o.Path, o.Item, o.Operation, excluded, taken)).ToList();
        return new Result(url.TrimEnd('/'), tools, null);
    }

    private static Result Fail(string error) => new(null, [], error);

    private static string? ServerUrl(OpenApiDocument document)
    {
        if (document.Servers is not { Count: > 0 } servers || servers[0].Url is not { Length: > 0 } url)
        {
            return null;
        }
        foreach (var (name, variable) in servers[0].Variables ?? new Dictionary<string, OpenApiServerVariable>())
        {
            url = url.Replace("{" + name + "}", variable.Default, StringComparison.Ordinal);
        }
        return url;
    }

    private static IEnumerable<(string Method, string Path, IOpenApiPathItem Item, OpenApiOperation Operation)> Operations(OpenApiDocument document)
    {
        foreach (var (path, item) in document.Paths ?? [])
        {
            foreach (var (method, operation) in item.Operations ?? [])
            {
                yield return (method.Method.ToUpperInvariant(), path, item, operation);
            }
        }
    }

    private static StoredTool ToTool(string method, string path, IOpenApiPathItem item, OpenApiOperation operation, HashSet<string> excluded,
        HashSet<string> taken)
    {
        // Without an operationId: the method and the path's words, e.g. GET /orders/{id} → get_orders_id.
        var fallback = string.Join('_', [method.ToLowerInvariant(), .. path.Split('/', '{', '}').Where(p => p.Length > 0)]);
        var name = ToolNames.Unique(ToolNames.Sanitize(operation.OperationId ?? fallback), taken);
        var properties = new JsonObject();
        var required = new JsonArray();
        var bindings = new List<HttpParameter>();
        // Operation parameters override the path item's of the same name and place.
        var parameters = (operation.Parameters ?? []).Concat((item.Parameters ?? [])
            .Where(p => !(operation.Parameters ?? []).Any(o => o.Name == p.Name && o.In == p.In)));
        foreach (var p in parameters)
        {
            if (p.Name is not { Length: > 0 } pname || p.In is not ({ } location and (ParameterLocation.Path or ParameterLocation.Query or ParameterLocation.Header))
                || (location == ParameterLocation.Header && excluded.Contains(pname)) || properties.ContainsKey(pname))
            {
                continue;
            }
            var schema = OpenApiSchemas.Convert(p.Schema ?? p.Content?.Values.FirstOrDefault()?.Schema);
            if (OpenApiSchemas.Short(p.Description) is { } description)
            {
                schema["description"] = description;
            }
            properties[pname] = schema;
            if (p.Required || location == ParameterLocation.Path)
            {
                required.Add(pname);
            }
            bindings.Add(new HttpParameter(pname, location.ToString().ToLowerInvariant()));
        }
        var body = operation.RequestBody?.Content?.FirstOrDefault(c => c.Key.Contains("json", StringComparison.OrdinalIgnoreCase)).Value;
        if (body is not null && !properties.ContainsKey("body"))
        {
            var schema = OpenApiSchemas.Convert(body.Schema);
            schema["description"] ??= OpenApiSchemas.Short(operation.RequestBody!.Description) ?? "the request body (JSON)";
            properties["body"] = schema;
            if (operation.RequestBody!.Required)
            {
                required.Add("body");
            }
        }
        var parametersSchema = new JsonObject { ["type"] = "object", ["properties"] = properties, ["additionalProperties"] = false };
        if (required.Count > 0)
        {
            parametersSchema["required"] = required;
        }
        var text = OpenApiSchemas.Short(operation.Summary) ?? OpenApiSchemas.Short(operation.Description) ?? $"{method} {path}";
        var sideEffect = method is not ("GET" or "HEAD" or "OPTIONS");
        return new StoredTool(name, text, parametersSchema, sideEffect,
            new HttpOperation(method, path, bindings, body is not null && properties.ContainsKey("body"), operation.OperationId));
    }
}
