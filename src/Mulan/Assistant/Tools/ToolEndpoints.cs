using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;
using Mulan.Access;
using Mulan.Audit;
using Mulan.Hosting.Problems;

namespace Mulan.Assistant.Tools;

/// <summary><c>/api/tools</c> (administrator only): add an OpenAPI import or an MCP server, list, read and delete them.</summary>
public static class ToolEndpoints
{
    /// <summary>2 MiB: OpenAPI documents of large services run to a few hundred KiB.</summary>
    public const int MaxBodyBytes = 2 * 1024 * 1024;

    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder app)
    {
        var tools = app.MapGroup("/api/tools").RequireAdminKey().RequireInstanceAdmin().WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        tools.MapPost("/", CreateAsync).WithName("CreateToolSource")
            .WithSummary("Add a tool source: an OpenAPI 3 document (JSON or YAML) or an MCP server ({url} or {command, args}).");
        tools.MapGet("/", ListAsync).WithName("ListToolSources");
        tools.MapGet("/{id}", GetAsync).WithName("GetToolSource").WithSummary("A tool source by id, or by name (?workspace= to pick the workspace).");
        tools.MapDelete("/{id}", DeleteAsync).WithName("DeleteToolSource").WithSummary("409 while an app names it.");
        return app;
    }

    public sealed record ToolView(string Name, bool SideEffect, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonObject? Parameters);

    /// <summary>A source as answers show it: how it is reached and which header carries its credential, never the value.</summary>
    public sealed record ToolSourceView(string Id, string Name, string Workspace, string Kind, string? BaseUrl, McpEndpoint? Mcp, IReadOnlyList<string> AllowHosts,
        string? CredentialHeader, int TimeoutSeconds, IReadOnlyList<ToolView> Tools, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        public static ToolSourceView From(ToolSource s, bool detailed) => new(s.Id, s.Name, s.WorkspaceId, ToolSource.KindName(s.Kind), s.Definition.BaseUrl,
            s.Definition.Mcp, s.Definition.AllowHosts, s.Definition.CredentialHeader, s.Definition.TimeoutSeconds,
            [.. s.Tools.Select(t => new ToolView(t.Name, t.SideEffect, detailed ? t.Description : null, detailed ? t.Parameters : null))], s.CreatedAt, s.UpdatedAt);
    }

    private static IResult Outcome(ToolChange change, Func<ToolSource, IResult> done) => change switch
    {
        ToolChange.Done d => done(d.Source),
        ToolChange.Invalid i => TypedResults.ValidationProblem(i.Errors),
        ToolChange.Unusable u => TypedResults.Problem(statusCode: 400, title: "The tool source cannot be used", detail: u.Detail),
        ToolChange.Conflict { Users: { } users } c => TypedResults.Problem(statusCode: 409, detail: c.Detail, extensions: new Dictionary<string, object?> { ["usedBy"] = users }),
        ToolChange.Conflict c => TypedResults.Problem(statusCode: 409, detail: c.Detail),
        _ => TypedResults.Problem(statusCode: 500),
    };

    private static async Task<IResult> CreateAsync(HttpContext ctx, ToolSourceService service, IAccessStore access, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct, maxDepth: 128);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        var request = ToolSourceRequest.Read(body!, errors);
        if (request is null)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (await access.FindWorkspaceAsync(request.Workspace ?? AccessService.DefaultWorkspaceName, ct) is not { } workspace)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No workspace '{request.Workspace}'.");
        }
        return Outcome(await service.CreateAsync(workspace, request, AuditActor.Admin, ct),
            s => TypedResults.Created($"/api/tools/{s.Id}", ToolSourceView.From(s, false)));
    }

    private static async Task<IResult> ListAsync(string? workspace, IToolStore store, IAccessStore access, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var workspaceId = await access.ResolveAsync(workspace, errors, ct);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        return TypedResults.Ok(new { tools = (await store.ListAsync(workspaceId, ct)).Select(s => ToolSourceView.From(s, false)) });
    }

    private static async Task<ToolSource?> FindAsync(string id, string? workspace, ToolSourceService service, IAccessStore access, CancellationToken ct)
    {
        var workspaceId = workspace is null ? null : (await access.FindWorkspaceAsync(workspace, ct))?.Id ?? "-";
        return await service.FindAsync(id, workspaceId, ct);
    }

    private static async Task<IResult> GetAsync(string id, string? workspace, ToolSourceService service, IAccessStore access, CancellationToken ct) =>
        await FindAsync(id, workspace, service, access, ct) is { } source
            ? TypedResults.Ok(ToolSourceView.From(source, true))
            : TypedResults.Problem(statusCode: 404, detail: $"No tool source '{id}'.");

    private static async Task<IResult> DeleteAsync(string id, string? workspace, ToolSourceService service, IAccessStore access, CancellationToken ct)
    {
        if (await FindAsync(id, workspace, service, access, ct) is not { } source)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No tool source '{id}'.");
        }
        return Outcome(await service.DeleteAsync(source, AuditActor.Admin, ct), _ => TypedResults.NoContent());
    }
}
