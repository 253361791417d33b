using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mulan.Assistant.Mcp;

/// <summary>
/// The tools of one key, worked out again for every request (stateless): the knowledge tools over its workspace, and
/// one tool per published app it may use. What a key may not use is neither listed nor callable.
/// </summary>
public sealed partial class McpToolbox(McpKnowledgeTools knowledge, McpAppTools apps, IHttpContextAccessor http, ILogger<McpToolbox> logger)
{
    public async ValueTask<ListToolsResult> ListAsync(McpCaller caller, CancellationToken ct) =>
        new() { Tools = [.. await knowledge.ToolsAsync(caller, ct), .. apps.Tools(caller)] };

    public async ValueTask<CallToolResult> CallAsync(McpCaller caller, CallToolRequestParams call, CancellationToken ct)
    {
        try
        {
            var result = call.Name switch
            {
                McpKnowledgeTools.List => await knowledge.ListAsync(caller, new McpArguments(call.Arguments), ct),
                McpKnowledgeTools.Search => await knowledge.SearchAsync(caller, new McpArguments(call.Arguments, "knowledge_base", "query", "top_k"), ct),
                McpKnowledgeTools.Ask => await knowledge.AskAsync(caller, new McpArguments(call.Arguments, "knowledge_base", "question", "model"), ct),
                _ when apps.For(caller).GetValueOrDefault(call.Name) is { } app =>
                    await apps.CallAsync(caller, app, new McpArguments(call.Arguments, "message", "conversation_id"), Request(), ct),
                // An unknown tool is a protocol error (MCP: -32602); an app of another workspace is just as unknown.
                _ => throw new McpProtocolException($"Unknown tool '{Cut(call.Name)}'.", McpErrorCode.InvalidParams),
            };
            LogCall(logger, call.Name, caller.Key.Id, result.IsError == true);
            return result;
        }
        catch (McpToolInputException e)
        {
            // Refused before anything ran or was charged; the agent reads why and can correct its call.
            LogRefused(logger, Cut(call.Name), caller.Key.Id);
            return McpSchemas.Error(e.Message);
        }
    }

    private static string Cut(string name) => name.Length > 64 ? name[..64] + "…" : name;

    [LoggerMessage(Level = LogLevel.Debug, Message = "MCP tool {Tool} called with key {KeyId}; tool error: {IsError}")]
    private static partial void LogCall(ILogger logger, string tool, string keyId, bool isError);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MCP tool {Tool} refused its arguments (key {KeyId})")]
    private static partial void LogRefused(ILogger logger, string tool, string keyId);

    private HttpContext Request() => http.HttpContext ?? throw new InvalidOperationException("an MCP tool call outside of its HTTP request");
}
