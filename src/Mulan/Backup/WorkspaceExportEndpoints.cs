using System.Text.Json;
using Mulan.Access;
using Mulan.Apps;
using Mulan.Assistant.Runs;
using Mulan.Audit;
using Mulan.Evaluations;
using Mulan.Gateway.Metering;
using Mulan.Knowledge;
using Mulan.Pilots;

namespace Mulan.Backup;

/// <summary>
/// <c>GET /api/workspaces/{workspace}/export</c>: everything one workspace holds, as JSON lines — one object per line,
/// each with its <c>type</c> — for a customer who takes their data with them, or an audit. Keys appear without their
/// secrets or hashes; provider secrets belong to the instance and are not part of a workspace. Streamed as it is
/// read, so a workspace with millions of usage records is exported without holding them in memory.
/// </summary>
public static class WorkspaceExportEndpoints
{
    private const int Page = 1000;
    // Enums by name (a document's status reads "ready", not 2): the export is read by people and other systems.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static RouteGroupBuilder MapWorkspaceExport(this RouteGroupBuilder scope)
    {
        scope.MapGet("/export", ExportAsync).WithName("ExportWorkspace").RequireAccess(WorkspaceRole.Owner)
            .WithSummary("Everything the workspace holds as JSON lines (keys without secrets), for taking the data along or an audit.");
        return scope;
    }

    private static async Task ExportAsync(HttpContext ctx, IAccessStore access, IKnowledgeStore knowledge, IAppStore apps, IRunStore runs,
        IEvaluationStore evaluations, IPilotStore pilots, IUsageStore usage, IAuditStore audit, TimeProvider time, CancellationToken ct)
    {
        var workspace = WorkspaceScope.Of(ctx);
        ctx.Response.ContentType = "application/x-ndjson; charset=utf-8";
        ctx.Response.Headers.ContentDisposition = $"attachment; filename=\"mulan-workspace-{workspace.Id}.jsonl\"";
        var body = ctx.Response.Body;
        await Line(body, "export", new { workspace = workspace.Id, at = time.GetUtcNow(), format = 1 }, ct);
        await Line(body, "workspace", AccessEndpoints.WorkspaceDto.From(workspace), ct);
        foreach (var key in await access.ListKeysAsync(workspace.Id, ct))
        {
            await Line(body, "key", AccessEndpoints.KeyDto.From(key), ct);
        }
        foreach (var kb in await knowledge.ListKnowledgeBasesAsync(workspace.Id, ct))
        {
            await Line(body, "knowledge_base", kb, ct);
            foreach (var document in await knowledge.ListDocumentsAsync(kb.Id, ct))
            {
                await Line(body, "document", document, ct);
            }
        }
        foreach (var app in await apps.ListAsync(workspace.Id, ct))
        {
            await Line(body, "app", app, ct);
            foreach (var version in await apps.VersionsAsync(app.Id, ct))
            {
                await Line(body, "app_version", new { version.AppId, version.Version, definition = JsonDocument.Parse(version.Definition).RootElement, version.CreatedAt, version.Note }, ct);
            }
        }
        foreach (var feedback in await apps.FeedbackAsync(workspace.Id, null, null, int.MaxValue, ct))
        {
            await Line(body, "feedback", feedback, ct);
        }
        foreach (var run in await runs.ListAsync(new RunQuery(workspace.Id, null, null, int.MaxValue), ct))
        {
            await Line(body, "run", RunView.Of(run, null, null), ct);
        }
        foreach (var set in await evaluations.SetsAsync(workspace.Id, ct))
        {
            await Line(body, "evaluation_set", set, ct);
        }
        foreach (var run in await evaluations.RunsAsync(workspace.Id, null, null, int.MaxValue, ct))
        {
            await Line(body, "evaluation_run", run, ct);
        }
        foreach (var pilot in await pilots.ListAsync(workspace.Id, ct))
        {
            await Line(body, "pilot", PilotEndpoints.View(pilot), ct);
            await Line(body, "pilot_scope", new { pilot = pilot.Id, items = await pilots.ScopeAsync(pilot.Id, ct) }, ct);
            foreach (var change in await pilots.ChangesAsync(pilot.Id, ct))
            {
                await Line(body, "pilot_change", change, ct);
            }
            foreach (var effort in await pilots.EffortAsync(pilot.Id, ct))
            {
                await Line(body, "pilot_effort", effort, ct);
            }
            foreach (var signoff in await pilots.SignoffsAsync(pilot.Id, ct))
            {
                await Line(body, "pilot_signoff", signoff, ct);
            }
        }
        await foreach (var record in usage.ExportAsync(new UsageQuery(null, workspace.Id, null, null, null, 1, Page), ct))
        {
            await Line(body, "usage", record, ct);
        }
        for (var page = 1; ; page++)
        {
            var entries = await audit.QueryAsync(new AuditQuery(workspace.Id, null, null, null, page, Page), ct);
            foreach (var entry in entries.Entries)
            {
                await Line(body, "audit", entry, ct);
            }
            if (entries.Entries.Count < Page)
            {
                break;
            }
        }
    }

    private static async Task Line(Stream body, string type, object value, CancellationToken ct)
    {
        await body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(new { type, value }, Json), ct);
        await body.WriteAsync("\n"u8.ToArray(), ct);
    }
}
