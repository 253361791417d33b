using Mulan.Access;
using Mulan.Hosting.Problems;
using System.Globalization;
using Mulan.Audit;
using static Mulan.Knowledge.KnowledgeEndpoints;

namespace Mulan.Knowledge.Lifecycle;

/// <summary>
/// Listing, renaming and deleting documents, and deleting knowledge bases. Like every knowledge route, an id of another
/// workspace answers 404 before any permission is checked, so a key learns nothing about other workspaces.
/// </summary>
public static class LifecycleEndpoints
{
    public const int MaxPageSize = 1000;
    private const int DefaultPageSize = 100;

    public static RouteGroupBuilder MapKnowledgeLifecycle(this RouteGroupBuilder kb)
    {
        kb.MapDelete("/{id}", DeleteKnowledgeBaseAsync).WithName("DeleteKnowledgeBase").RequireAccess(WorkspaceRole.Admin)
            .WithSummary("Delete a knowledge base with its documents, chunks, vectors and files; 409 while something uses it, unless ?force=true.");
        kb.MapGet("/{id}/documents", ListDocumentsAsync).WithName("ListDocuments").RequireAccess(WorkspaceRole.Viewer)
            .WithSummary("Documents, oldest first, filtered by status or source (file name or URL), paged.");
        kb.MapPatch("/{id}/documents/{docId}", RenameDocumentAsync).WithName("RenameDocument").RequireAccess(WorkspaceRole.Admin).WithSummary("Give a document a title (kept by later versions).");
        kb.MapDelete("/{id}/documents/{docId}", DeleteDocumentAsync).WithName("DeleteDocument").RequireAccess(WorkspaceRole.Admin)
            .WithSummary("Delete a document whatever its status, with its chunks, vectors and file, and any version queued to replace it.");
        return kb;
    }

    public sealed record DocumentsPage(IReadOnlyList<DocumentView> Documents, int Page, int PageSize, int Count);

    public sealed record RenameRequest(string? Title);

    public sealed record DeletedDocuments(IReadOnlyList<string> Deleted);

    public sealed record DeletedKnowledgeBase(string Id, string Name, int Documents);

    private static async Task<IResult> ListDocumentsAsync(string id, HttpContext ctx, IKnowledgeStore store, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } kb)
        {
            return NotFound(id);
        }
        var query = ctx.Request.Query;
        var errors = new Dictionary<string, string[]>();
        DocumentStatus? status = null;
        if (query["status"].ToString() is { Length: > 0 } s)
        {
            if (s is "queued" or "processing" or "ready" or "failed")
            {
                status = DocumentStatusNames.Parse(s);
            }
            else
            {
                errors["status"] = ["one of queued, processing, ready, failed"];
            }
        }
        var source = query["source"].ToString();
        if (source.Length > 2000)
        {
            errors["source"] = ["at most 2000 characters"];
        }
        // Absent means the default; present but empty or not a whole number in range is refused, as on every /api query.
        var page = errors.QueryInt("page", Text(query, "page"), 1, int.MaxValue / MaxPageSize) ?? 1;
        var pageSize = errors.QueryInt("pageSize", Text(query, "pageSize"), 1, MaxPageSize) ?? DefaultPageSize;
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var result = await store.ListDocumentsAsync(kb.Id, new DocumentQuery(status, source.Length > 0 ? source : null, page, pageSize), ct);
        return TypedResults.Ok(new DocumentsPage([.. result.Documents.Select(DocumentView.From)], page, pageSize, result.Total));
    }

    private static string? Text(IQueryCollection query, string name) => query.TryGetValue(name, out var v) ? v.ToString() : null;

    private static async Task<IResult> RenameDocumentAsync(string id, string docId, RenameRequest? body, HttpContext ctx, IKnowledgeStore store,
        KnowledgeLifecycle lifecycle, AuditLog audit, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } kb)
        {
            return NotFound(id);
        }
        if (await store.GetDocumentAsync(kb.Id, docId, ct) is not { } document)
        {
            return DocumentNotFound(docId);
        }
        var caller = Caller.Of(ctx);
        if (!caller.HasRole(WorkspaceRole.Admin))
        {
            return TypedResults.Problem(statusCode: 403, detail: "Renaming documents needs the administrator key.");
        }
        var title = body?.Title?.Trim();
        if (string.IsNullOrEmpty(title) || title.Length > 300 || title.Any(char.IsControl))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["title"] = ["required, 1 to 300 characters, no control characters"] });
        }
        if (await lifecycle.RenameDocumentAsync(kb, docId, title, ct) is not { } renamed)
        {
            return DocumentNotFound(docId); // deleted meanwhile
        }
        await audit.RecordAsync(AuditEntries.DocumentRenamed(caller.Actor, kb, document, title));
        return TypedResults.Ok(DocumentView.From(renamed));
    }

    private static async Task<IResult> DeleteDocumentAsync(string id, string docId, HttpContext ctx, IKnowledgeStore store, KnowledgeLifecycle lifecycle,
        AuditLog audit, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } kb)
        {
            return NotFound(id);
        }
        if (await store.GetDocumentAsync(kb.Id, docId, ct) is not { } document)
        {
            return DocumentNotFound(docId);
        }
        var caller = Caller.Of(ctx);
        if (!caller.HasRole(WorkspaceRole.Admin))
        {
            return TypedResults.Problem(statusCode: 403, detail: "Deleting documents needs the administrator key.");
        }
        if (await lifecycle.DeleteDocumentAsync(kb, docId, ct) is not { } deleted)
        {
            return DocumentNotFound(docId); // deleted meanwhile
        }
        await audit.RecordAsync(AuditEntries.DocumentDeleted(caller.Actor, kb, document, deleted));
        return TypedResults.Ok(new DeletedDocuments(deleted));
    }

    private static async Task<IResult> DeleteKnowledgeBaseAsync(string id, HttpContext ctx, IKnowledgeStore store, KnowledgeLifecycle lifecycle,
        AuditLog audit, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } kb)
        {
            return NotFound(id);
        }
        var caller = Caller.Of(ctx);
        if (!caller.HasRole(WorkspaceRole.Admin))
        {
            return TypedResults.Problem(statusCode: 403, detail: "Deleting knowledge bases needs the administrator key.");
        }
        var force = false;
        if (ctx.Request.Query["force"].ToString() is { Length: > 0 } f && !bool.TryParse(f, out force))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["force"] = ["true or false"] });
        }
        var deletion = await lifecycle.DeleteKnowledgeBaseAsync(kb, force, ct);
        if (deletion.UsedBy.Count > 0)
        {
            return TypedResults.Problem(statusCode: 409, title: "Knowledge base in use",
                detail: $"'{kb.Name}' is still used by {string.Join(", ", deletion.UsedBy)}; change those first, or delete with ?force=true.",
                extensions: new Dictionary<string, object?> { ["usedBy"] = deletion.UsedBy });
        }
        if (!deletion.Deleted)
        {
            return NotFound(id); // deleted meanwhile
        }
        await audit.RecordAsync(AuditEntries.KnowledgeBaseDeleted(caller.Actor, kb, deletion.Documents, force));
        return TypedResults.Ok(new DeletedKnowledgeBase(kb.Id, kb.Name, deletion.Documents));
    }

    private static IResult DocumentNotFound(string docId) => TypedResults.Problem(statusCode: 404, detail: $"No document '{docId}' in this knowledge base.");
}
