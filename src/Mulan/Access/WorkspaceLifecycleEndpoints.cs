using Microsoft.AspNetCore.Http.HttpResults;
using Mulan.Audit;
using Mulan.Knowledge;
using static Mulan.Access.AccessEndpoints;

namespace Mulan.Access;

/// <summary><c>PATCH /api/workspaces/{id}</c> (rename) and <c>DELETE /api/workspaces/{id}</c>. <c>{id}</c> is an id or a name.</summary>
public static class WorkspaceLifecycleEndpoints
{
    public static RouteGroupBuilder MapWorkspaceLifecycle(this RouteGroupBuilder api)
    {
        api.MapPatch("/workspaces/{id}", RenameAsync).WithName("RenameWorkspace").WithSummary("Rename a workspace.");
        api.MapDelete("/workspaces/{id}", DeleteAsync).WithName("DeleteWorkspace")
            .WithSummary("Delete a workspace: 409 listing what it still holds unless ?force=true, which revokes its keys and deletes its knowledge bases. Its usage records are kept.");
        return api;
    }

    public sealed record RenameRequest(string? Name);

    public sealed record Held(string Id, string Name);

    public sealed record DeletedWorkspace(string Id, string Name, IReadOnlyList<Held> RevokedKeys, IReadOnlyList<Held> DeletedKnowledgeBases);

    private static async Task<Results<Ok<WorkspaceDto>, ValidationProblem, ProblemHttpResult>> RenameAsync(
        string id, RenameRequest? body, AccessService access, IAccessStore store, AuditLog audit, CancellationToken ct)
    {
        if (await store.FindWorkspaceAsync(id, ct) is not { } workspace)
        {
            return TypedResults.Problem(detail: $"No workspace '{id}'.", statusCode: 404);
        }
        var errors = new Dictionary<string, string[]>();
        var name = KeyRules.Name(body?.Name, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (name == workspace.Name)
        {
            return TypedResults.Ok(WorkspaceDto.From(workspace));
        }
        if (IsDefault(workspace))
        {
            return TypedResults.Problem(statusCode: 409, detail:
                $"The built-in '{AccessService.DefaultWorkspaceName}' workspace keeps its name: keys and knowledge bases created without a workspace go to it by that name.");
        }
        if (!await access.RenameWorkspaceAsync(workspace, name!, ct))
        {
            return TypedResults.Problem(detail: $"A workspace named '{name}' exists.", statusCode: 409);
        }
        await audit.RecordAsync(AuditEntries.WorkspaceRenamed(AuditActor.Admin, workspace, name!));
        return TypedResults.Ok(WorkspaceDto.From(workspace with { Name = name! }));
    }

    private static async Task<Results<Ok<DeletedWorkspace>, ProblemHttpResult>> DeleteAsync(
        string id, bool? force, AccessService access, IAccessStore store, IKnowledgeStore knowledge, Apps.IAppStore appStore, Apps.AppService apps,
        Apps.Compliance.IComplianceStore compliance, Assistant.Tools.IToolStore toolStore, Assistant.Tools.ToolSourceService tools, AuditLog audit,
        IServiceProvider services, CancellationToken ct)
    {
        if (await store.FindWorkspaceAsync(id, ct) is not { } workspace)
        {
            return TypedResults.Problem(detail: $"No workspace '{id}'.", statusCode: 404);
        }
        if (IsDefault(workspace))
        {
            return TypedResults.Problem(statusCode: 409, detail:
                $"The built-in '{AccessService.DefaultWorkspaceName}' workspace cannot be deleted: keys and knowledge bases created without a workspace go to it.");
        }
        var keys = (await store.ListKeysAsync(workspace.Id, ct)).Where(k => k.RevokedAt is null).Select(k => new Held(k.Id, k.Name)).ToList();
        var kbs = await knowledge.ListKnowledgeBasesAsync(workspace.Id, ct);
        var held = kbs.Select(k => new Held(k.Id, k.Name)).ToList();
        var workspaceApps = await appStore.ListAsync(workspace.Id, ct);
        if (force != true && (keys.Count > 0 || kbs.Count > 0 || workspaceApps.Count > 0))
        {
            return TypedResults.Problem(statusCode: 409,
                detail: $"The workspace '{workspace.Name}' still holds {Count(keys.Count, "key")}, {Count(kbs.Count, "knowledge base")} and {Count(workspaceApps.Count, "app")}; " +
                    "delete them first, or pass ?force=true to revoke its keys and delete its knowledge bases and apps with it (its usage records are kept).",
                extensions: new Dictionary<string, object?> { ["keys"] = keys, ["knowledgeBases"] = held, ["apps"] = workspaceApps.Select(a => new Held(a.Id, a.Slug)).ToList() });
        }
        // Apps first: a published app's knowledge bases are otherwise in use.
        foreach (var app in workspaceApps)
        {
            await apps.DeleteAsync(app, AuditActor.Admin, ct);
        }
        await compliance.DeleteAsync(workspace.Id, ct);
        // Its tool sources too (their encrypted credentials with them); no app of the workspace is left to use them.
        foreach (var source in await toolStore.ListAsync(workspace.Id, ct))
        {
            await tools.DeleteAsync(source, AuditActor.Admin, ct);
        }
        if (kbs.Count > 0)
        {
            if (services.GetService<IWorkspaceContents>() is not { } contents)
            {
                return TypedResults.Problem(statusCode: 409,
                    detail: $"The workspace '{workspace.Name}' still holds {Count(kbs.Count, "knowledge base")}, which this server cannot delete with it; delete them first.",
                    extensions: new Dictionary<string, object?> { ["knowledgeBases"] = held });
            }
            // First, so that a failure here leaves the workspace and its keys as they were (retrying finishes the job).
            await contents.DeleteKnowledgeBasesAsync(workspace.Id, AuditActor.Admin, ct);
        }
        var revoked = await access.DeleteWorkspaceAsync(workspace, ct);
        foreach (var key in revoked)
        {
            await audit.RecordAsync(AuditEntries.KeyRevoked(AuditActor.Admin, key));
        }
        await audit.RecordAsync(AuditEntries.WorkspaceDeleted(AuditActor.Admin, workspace, revoked, kbs));
        return TypedResults.Ok(new DeletedWorkspace(workspace.Id, workspace.Name, [.. revoked.Select(k => new Held(k.Id, k.Name))], held));
    }

    private static bool IsDefault(Workspace w) => string.Equals(w.Name, AccessService.DefaultWorkspaceName, StringComparison.OrdinalIgnoreCase);

    private static string Count(int n, string what) => n == 1 ? $"1 {what}" : $"{n} {what}s";
}
