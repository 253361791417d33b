using Mulan.Assistant.Mcp;
using Mulan.Assistant.Tools;

namespace Mulan.Assistant;

/// <summary>The digital employee: tool sources, runs with approvals, schedules, and Mulan as an MCP server.</summary>
public static class AssistantExtensions
{
    public static IServiceCollection AddAssistant(this IServiceCollection services)
    {
        services.AddAssistantTools();
        services.AddMulanMcpServer();
        return services;
    }

    public static IEndpointRouteBuilder MapAssistant(this IEndpointRouteBuilder app)
    {
        app.MapToolEndpoints();
        app.MapMulanMcpServer();
        return app;
    }
}
