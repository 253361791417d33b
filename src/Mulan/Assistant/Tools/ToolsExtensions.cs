namespace Mulan.Assistant.Tools;

/// <summary>Tool sources: OpenAPI imports and MCP servers, stored per workspace, resolved into a run's <see cref="ToolSet"/>.</summary>
public static class ToolsExtensions
{
    public static IServiceCollection AddAssistantTools(this IServiceCollection services)
    {
        services.AddSingleton<ToolCredentials>();
        services.AddSingleton<HttpToolInvoker>();
        services.AddSingleton<McpConnections>();
        services.AddSingleton<ToolReferences>();
        services.AddSingleton<ToolSourceService>();
        services.AddSingleton<ToolCatalog>();
        return services;
    }

    public static IEndpointRouteBuilder MapToolEndpoints(this IEndpointRouteBuilder app) => ToolEndpoints.Map(app);
}
