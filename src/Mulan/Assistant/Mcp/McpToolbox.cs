using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mulan.Assistant.Mcp;

/// <summary>
/// The tools of one key, worked out again for every request (stateless): the knowledge tools over its workspace, and
/// one tool per published app it may use. What a key may not use is neither listed nor callable.
/// </summary>
public sealed class McpToolbox(McpKnowledgeTools knowledge, McpAppTools apps, IHttpContextAccessor http)
{
    public async ValueTask<ListToolsResult> ListAsync(McpCaller caller, CancellationToken ct) =>
        new() { Tools = [.. await knowledge.ToolsAsync(caller, ct), .. apps.Tools(caller)] };

    public async ValueTask<CallToolResult> CallAsync(McpCaller caller, CallToolRequestParams call, CancellationToken ct)
    {
        try
        {
            return call.Name switch
            {
                McpKnowledgeTools.List => await knowledge.ListAsync(caller, new McpArguments(call.Arguments), ct),
                McpKnowledgeTools.Search => await knowledge.SearchAsync(caller, new McpArguments(call.Arguments, "knowledge_base", "query", "top_k"), ct),
                McpKnowledgeTools.Ask => await knowledge.AskAsync(caller, new McpArguments(call.Arguments, "knowledge_base", "question", "model"), ct),
                _ when apps.For(caller).GetValueOrDefault(call.Name) is { } app =>
                    await apps.CallAsync(caller, app, new McpArguments(call.Arguments, "message", "conversation_id"), Request(), ct),
                // An unknown tool is a protocol error (MCP: -32602); an app of another workspace is just as unknown.
                _ => throw new McpProtocolException($"Unknown tool '{(call.Name.Length > 64 ? call.Name[..64] + "…" : call.Name)}'.", McpErrorCode.InvalidParams),
            };
        }
        catch (McpToolInputException e)
        {
            // Refused before anything ran or was charged; the agent reads why and can correct its call.
            return McpSchemas.Error(e.Message);
        }
    }

    private HttpContext Request() => http.HttpContext ?? throw new InvalidOperationException("an MCP tool call outside of its HTTP request");
}
