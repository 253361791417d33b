using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

namespace Mulan.Assistant.Mcp;

/// <summary>
/// Mulan as an MCP server at <c>/mcp</c> (streamable HTTP): search and ask over the knowledge bases a virtual key
/// may use, and its published apps, as tools for other agents and IDEs.
/// </summary>
public static class McpServerExtensions
{
    public const string Path = "/mcp";

    public static IServiceCollection AddMulanMcpServer(this IServiceCollection services)
    {
        // Tool handlers read the caller's key from the HTTP request they run in (see McpCaller).
        services.AddHttpContextAccessor();
        services.AddSingleton<McpKnowledgeTools>();
        services.AddSingleton<McpAppTools>();
        services.AddSingleton<McpToolbox>();
        services.AddMcpServer(o => o.ServerInfo = new Implementation { Name = "mulan", Version = typeof(McpServerExtensions).Assembly.GetName().Version?.ToString(3) ?? "0" })
            .WithHttpTransport(o =>
            {
                // Stateless: every POST is authenticated on its own and served without a session, so a revoked key stops
                // working at once, any node can answer any request, and nothing is held in memory between requests. The
                // server never calls back into the client (no sampling or elicitation), which is all stateless gives up.
                o.SessionMode = HttpServerSessionMode.Stateless;
            })
            .WithListToolsHandler((request, ct) => Toolbox(request.Services).ListAsync(McpCaller.Of(request.Services), ct))
            .WithCallToolHandler((request, ct) => Toolbox(request.Services).CallAsync(McpCaller.Of(request.Services), request.Params!, ct));
        return services;
    }

    public static IEndpointRouteBuilder MapMulanMcpServer(this IEndpointRouteBuilder app)
    {
        var mcp = app.MapMcp(Path);
        mcp.Add(McpCaller.RequireVirtualKey);
        mcp.WithSummary("MCP server (streamable HTTP, stateless): knowledge base search and ask, and published apps, as tools of the calling virtual key.");
        return app;
    }

    private static McpToolbox Toolbox(IServiceProvider? services) =>
        (services ?? throw new InvalidOperationException("an MCP request without services")).GetRequiredService<McpToolbox>();
}
