using System.Text.Json.Nodes;

namespace Mulan.Assistant.Tools;

/// <summary>The workspace's tool sources, by name.</summary>
public sealed class ToolCatalog(IToolStore store, HttpToolInvoker http, McpConnections mcp)
{
    /// <summary>The names among <paramref name="sourceNames"/> that are not tool sources of the workspace.</summary>
    public async Task<IReadOnlyList<string>> MissingAsync(string workspaceId, IReadOnlyList<string> sourceNames, CancellationToken ct)
    {
        var missing = new List<string>();
        foreach (var name in sourceNames.Distinct(StringComparer.Ordinal))
        {
            if (await store.FindByNameAsync(workspaceId, name, ct) is null)
            {
                missing.Add(name);
            }
        }
        return missing;
    }

    /// <summary>The tools of the named sources, for one run. Sources that no longer exist are left out. A tool name that
    /// two sources share is offered as <c>source__tool</c> from each.</summary>
    public async Task<ToolSet> ResolveAsync(string workspaceId, IReadOnlyList<string> sourceNames, CancellationToken ct)
    {
        var sources = new List<ToolSource>();
        foreach (var name in sourceNames.Distinct(StringComparer.Ordinal))
        {
            if (await store.FindByNameAsync(workspaceId, name, ct) is { } source)
            {
                sources.Add(source);
            }
        }
        var counts = sources.SelectMany(s => s.Tools).GroupBy(t => t.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var entries = new Dictionary<string, (ToolSource Source, StoredTool Tool, ToolSpec Spec)>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            foreach (var tool in source.Tools)
            {
                var name = ToolNames.Unique(counts[tool.Name] > 1 ? ToolNames.Sanitize($"{source.Name}__{tool.Name}") : tool.Name, taken);
                entries[name] = (source, tool, new ToolSpec(name, tool.Description, (JsonObject)tool.Parameters.DeepClone(), tool.SideEffect, source.Name));
            }
        }
        return new CatalogToolSet(entries, http, mcp);
    }

    private sealed class CatalogToolSet(Dictionary<string, (ToolSource Source, StoredTool Tool, ToolSpec Spec)> entries, HttpToolInvoker http,
        McpConnections mcp) : ToolSet
    {
        public override IReadOnlyList<ToolSpec> Specs { get; } = [.. entries.Values.Select(e => e.Spec)];

        public override string? Validate(string tool, JsonObject arguments) =>
            entries.TryGetValue(tool, out var e) ? ToolArguments.Validate(e.Tool.Parameters, arguments) : $"no tool '{tool}'";

        public override async Task<ToolResult> CallAsync(string tool, JsonObject arguments, CancellationToken ct)
        {
            if (!entries.TryGetValue(tool, out var e))
            {
                return ToolResult.Failed($"no tool '{tool}'");
            }
            if (ToolArguments.Validate(e.Tool.Parameters, arguments) is { } problem)
            {
                return ToolResult.Failed($"invalid arguments: {problem}");
            }
            return e.Source.Kind == ToolSourceKind.OpenApi
                ? await http.CallAsync(e.Source, e.Tool, arguments, ct)
                : await mcp.CallAsync(e.Source, e.Tool, arguments, ct);
        }
    }
}
