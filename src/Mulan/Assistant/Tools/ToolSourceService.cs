using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Access;
using Mulan.Audit;

namespace Mulan.Assistant.Tools;

/// <summary>The outcome of adding or deleting a tool source.</summary>
public abstract record ToolChange
{
    public sealed record Done(ToolSource Source) : ToolChange;

    /// <summary>400, errors keyed by JSON path.</summary>
    public sealed record Invalid(Dictionary<string, string[]> Errors) : ToolChange;

    /// <summary>400: the document or the server, not a field, is at fault.</summary>
    public sealed record Unusable(string Detail) : ToolChange;

    /// <summary>409.</summary>
    public sealed record Conflict(string Detail, IReadOnlyList<string>? Users = null) : ToolChange;
}

/// <summary>
/// Adds tool sources (an OpenAPI document is imported, an MCP server connected and listed, before anything is stored)
/// and deletes them unless an app names them. Both are audited; the credential appears in neither the entry nor any answer.
/// </summary>
public sealed class ToolSourceService(IToolStore store, ToolCredentials credentials, McpConnections mcp, ToolReferences references, AuditLog audit,
    TimeProvider time)
{
    public async Task<ToolChange> CreateAsync(Workspace workspace, ToolSourceRequest r, string actor, CancellationToken ct)
    {
        if (await store.FindByNameAsync(workspace.Id, r.Name, ct) is not null)
        {
            return new ToolChange.Conflict($"The workspace has a tool source named '{r.Name}'.");
        }
        IReadOnlyList<StoredTool> tools;
        string? baseUrl = null;
        if (r.OpenApi is { } document)
        {
            var import = OpenApiImport.Read(document, r.BaseUrl, r.Operations, r.CredentialHeader);
            if (import.Error is { } error)
            {
                return new ToolChange.Unusable(error);
            }
            (tools, baseUrl) = (import.Tools, import.BaseUrl);
        }
        else
        {
            try
            {
                await using var client = await mcp.ConnectAsync(r.Mcp!, r.AllowHosts, r.CredentialHeader, r.CredentialValue, ct);
                tools = await McpConnections.ListAsync(client, ct);
            }
            catch (McpUnreachableException e)
            {
                return new ToolChange.Unusable($"mcp server unreachable: {e.Message}");
            }
            catch (Exception e) when (e is ModelContextProtocol.McpException or IOException or HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                return new ToolChange.Unusable(ToolOutput.Redact($"mcp server unreachable: listing its tools failed: {e.Message}", r.CredentialValue));
            }
            if (tools.Count == 0)
            {
                return new ToolChange.Unusable("the MCP server lists no tools");
            }
        }
        if (r.SideEffects is { } overrides)
        {
            var errors = new Dictionary<string, string[]>();
            foreach (var unknown in overrides.Keys.Where(k => !tools.Any(t => t.Name == k)))
            {
                errors[$"$.sideEffects.{unknown}"] = [$"no tool '{unknown}' in this source (its tools: {string.Join(", ", tools.Select(t => t.Name))})"];
            }
            if (errors.Count > 0)
            {
                return new ToolChange.Invalid(errors);
            }
            tools = [.. tools.Select(t => overrides.TryGetValue(t.Name, out var flag) ? t with { SideEffect = flag } : t)];
        }
        var now = time.GetUtcNow();
        var definition = new ToolSourceDefinition(baseUrl, [.. r.AllowHosts.Select(Outbound.GuardedHttpClient.Canonical)], r.CredentialHeader, r.TimeoutSeconds, r.Mcp);
        var source = new ToolSource(KeyMaterial.NewId("tool"), workspace.Id, r.Name, r.OpenApi is null ? ToolSourceKind.Mcp : ToolSourceKind.OpenApi,
            definition, tools, r.CredentialValue is null ? null : credentials.Protect(r.CredentialValue), now, now);
        if (!await store.CreateAsync(source, ct))
        {
            return new ToolChange.Conflict($"The workspace has a tool source named '{r.Name}'.");
        }
        await audit.RecordAsync(new AuditEntry(actor, AuditActions.ToolCreated, "tool_source", source.Id, workspace.Id, Details(source)));
        return new ToolChange.Done(source);
    }

    public async Task<ToolChange> DeleteAsync(ToolSource source, string actor, CancellationToken ct)
    {
        var users = await references.UsersOfAsync(ToolReferences.Key(source.WorkspaceId, source.Name), ct);
        if (users.Count > 0)
        {
            return new ToolChange.Conflict($"Tool source '{source.Name}' is used by {string.Join(", ", users)}; remove it from them first.", users);
        }
        if (!await store.DeleteAsync(source.Id, ct))
        {
            return new ToolChange.Conflict($"Tool source '{source.Name}' was deleted meanwhile.");
        }
        await mcp.ForgetAsync(source.Id);
        await audit.RecordAsync(new AuditEntry(actor, AuditActions.ToolDeleted, "tool_source", source.Id, source.WorkspaceId, Details(source)));
        return new ToolChange.Done(source);
    }

    /// <summary>An id, or a name within the workspace (null: every workspace, when the name is unique).</summary>
    public async Task<ToolSource?> FindAsync(string idOrName, string? workspaceId, CancellationToken ct)
    {
        if (await store.FindAsync(idOrName, ct) is { } byId)
        {
            return workspaceId is null || byId.WorkspaceId == workspaceId ? byId : null;
        }
        if (workspaceId is not null)
        {
            return await store.FindByNameAsync(workspaceId, idOrName, ct);
        }
        var matches = (await store.ListAsync(null, ct)).Where(s => s.Name == idOrName).Take(2).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    // What the audit log keeps: how the source is reached, never the credential's value.
    private static JsonObject Details(ToolSource s) => JsonSerializer.SerializeToNode(new
    {
        name = s.Name,
        kind = ToolSource.KindName(s.Kind),
        baseUrl = s.Definition.BaseUrl,
        mcp = s.Definition.Mcp,
        allowHosts = s.Definition.AllowHosts,
        credentialHeader = s.Definition.CredentialHeader,
        tools = s.Tools.Select(t => t.Name),
    }, ToolJson.Options)!.AsObject();
}
