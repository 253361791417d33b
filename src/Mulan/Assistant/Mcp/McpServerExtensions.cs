namespace Mulan.Assistant.Mcp;

/// <summary>Mulan as an MCP server at <c>/mcp</c>.</summary>
public static class McpServerExtensions
{
    public static IServiceCollection AddMulanMcpServer(this IServiceCollection services) => services;

    public static IEndpointRouteBuilder MapMulanMcpServer(this IEndpointRouteBuilder app) => app;
}
