using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Mulan.Assistant.Tools;

/// <summary>Where a tool source's tools come from.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ToolSourceKind>))]
public enum ToolSourceKind
{
    /// <summary>An imported OpenAPI 3 description: each chosen operation is a tool, called over HTTP.</summary>
    OpenApi,

    /// <summary>An MCP server, over streamable HTTP or stdio: its tools as it lists them.</summary>
    Mcp,
}

/// <summary>A tool source of a workspace. The credential is stored only encrypted (<paramref name="ProtectedCredential"/>):
/// no view of a source carries it.</summary>
public sealed record ToolSource(string Id, string WorkspaceId, string Name, ToolSourceKind Kind, ToolSourceDefinition Definition,
    IReadOnlyList<StoredTool> Tools, byte[]? ProtectedCredential, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static string KindName(ToolSourceKind kind) => kind == ToolSourceKind.OpenApi ? "openapi" : "mcp";
}

/// <summary>How to reach a source (stored as JSON in <c>tool_sources.definition</c>).</summary>
/// <param name="BaseUrl">OpenAPI: the base every operation path is appended to.</param>
/// <param name="AllowHosts">exact hosts this source may reach on private or loopback addresses (an administrator's choice).</param>
/// <param name="CredentialHeader">the header the stored credential is sent in; its value is not here.</param>
/// <param name="TimeoutSeconds">the limit of one call, start to end.</param>
public sealed record ToolSourceDefinition(string? BaseUrl, IReadOnlyList<string> AllowHosts, string? CredentialHeader, int TimeoutSeconds,
    McpEndpoint? Mcp = null);

/// <summary>An MCP server: a streamable HTTP <paramref name="Url"/>, or a <paramref name="Command"/> run on the Mulan server (stdio).</summary>
public sealed record McpEndpoint(string? Url, string? Command, IReadOnlyList<string>? Args);

/// <summary>One tool as stored: what the model is offered, and how to call it.</summary>
/// <param name="Http">OpenAPI: the operation behind it.</param>
/// <param name="Remote">MCP: the tool's own name on its server (the offered name is sanitized).</param>
public sealed record StoredTool(string Name, string Description, JsonObject Parameters, bool SideEffect, HttpOperation? Http = null, string? Remote = null);

/// <param name="Path">the path template, e.g. <c>/orders/{id}</c>, appended to the source's base URL.</param>
/// <param name="Parameters">which arguments go where (path, query or header).</param>
/// <param name="Body">the request body is the <c>body</c> argument, sent as JSON.</param>
public sealed record HttpOperation(string Method, string Path, IReadOnlyList<HttpParameter> Parameters, bool Body, string? OperationId);

/// <param name="In">path, query or header.</param>
public sealed record HttpParameter(string Name, string In);

public static class ToolJson
{
    /// <summary>How definitions and tools are stored.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
