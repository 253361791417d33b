namespace Mulan.Assistant.Tools;

/// <summary>Tool sources: OpenAPI imports and MCP servers, stored per workspace, resolved into a run's <see cref="ToolSet"/>.</summary>
public static class ToolsExtensions
{
    public static IServiceCollection AddAssistantTools(this IServiceCollection services)
    {
        services.AddSingleton<ToolCatalog>();
        return services;
    }

    public static IEndpointRouteBuilder MapToolEndpoints(this IEndpointRouteBuilder app) => app;
}

/// <summary>The workspace's tool sources, by name.</summary>
public sealed class ToolCatalog
{
    /// <summary>The names among <paramref name="sourceNames"/> that are not tool sources of the workspace.</summary>
    public Task<IReadOnlyList<string>> MissingAsync(string workspaceId, IReadOnlyList<string> sourceNames, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<string>>([.. sourceNames]);

    /// <summary>The tools of the named sources, for one run. Sources that no longer exist are left out.</summary>
    public Task<ToolSet> ResolveAsync(string workspaceId, IReadOnlyList<string> sourceNames, CancellationToken ct) =>
        Task.FromResult<ToolSet>(new EmptyToolSet());

    private sealed class EmptyToolSet : ToolSet
    {
        public override IReadOnlyList<ToolSpec> Specs => [];
        public override string? Validate(string tool, System.Text.Json.Nodes.JsonObject arguments) => $"no tool '{tool}'";
        public override Task<ToolResult> CallAsync(string tool, System.Text.Json.Nodes.JsonObject arguments, CancellationToken ct) =>
            Task.FromResult(ToolResult.Failed($"no tool '{tool}'"));
    }
}
