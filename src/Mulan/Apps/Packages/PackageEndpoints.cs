using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;
using Mulan.Access;
using Mulan.Hosting.Problems;
using Mulan.Knowledge;

namespace Mulan.Apps.Packages;

/// <summary>
/// <c>GET /api/apps/{id}/export</c> and <c>POST /api/apps/import</c>: an app as one file, to move it between workspaces or
/// installations. Administrator only: a package can carry whole knowledge bases, which keys never read as files.
/// </summary>
public static class PackageEndpoints
{
    public static IEndpointRouteBuilder MapAppPackages(this IEndpointRouteBuilder app)
    {
        var apps = Caller.RequireCaller(app.MapGroup("/api/apps"));
        apps.MapGet("/{id}/export", ExportAsync).WithName("ExportApp").RequireAccess(WorkspaceRole.Admin)
            .WithSummary("The app as a .mulan-app.zip package: a version's definition (?version=, default the published, else the latest), with ?documents=true its knowledge bases' documents, with ?evaluation=true the corrections from feedback. Never keys, usage or conversations.");
        apps.MapPost("/import", ImportAsync).WithName("ImportApp").RequireAccess(WorkspaceRole.Admin)
            .WithSummary("Create an app from a package (the request body); ?workspace=, ?slug=, repeatable ?mapModel=OLD:NEW and ?mapKnowledgeBase=OLD:NEW. Checked in full first: 400 bad package, 422 something to map, 409 slug taken, and then nothing is changed.")
            .WithMetadata(new RequestSizeLimitAttribute(PackageLimits.Default.MaxPackageBytes));
        return app;
    }

    public sealed record ImportedView(AppEndpoints.AppView App, IReadOnlyList<ImportedKnowledgeBaseView> KnowledgeBases, int EvaluationItems);

    /// <param name="Created">true: created from the package's documents; false: an existing knowledge base of the workspace.</param>
    public sealed record ImportedKnowledgeBaseView(string Id, string Name, string PackageName, bool Created, IReadOnlyList<QueuedView> Documents);

    public sealed record QueuedView(string Id, string Status, string Source, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Origin);

    public sealed record UnmappedView(IReadOnlyList<string> Models, IReadOnlyList<string> KnowledgeBases);

    private static IResult AdminOnly(string what) => TypedResults.Problem(statusCode: 403, detail: $"{what} needs the administrator key.");

    private static async Task<IResult> ExportAsync(string id, string? version, bool? documents, bool? evaluation, HttpContext ctx, AppService service,
        PackageExporter exporter, IAccessStore access, CancellationToken ct)
    {
        if (!Caller.Of(ctx).HasRole(WorkspaceRole.Admin))
        {
            return AdminOnly("Exporting apps");
        }
        var errors = new Dictionary<string, string[]>();
        var wanted = errors.QueryInt("version", version, 1, int.MaxValue);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var workspace = !Caller.Of(ctx).IsAdmin ? Caller.Of(ctx).WorkspaceId
            : ctx.Request.Query["workspace"].ToString() is { Length: > 0 } named ? (await access.FindWorkspaceAsync(named, ct))?.Id ?? "-" : null;
        if (await service.FindAsync(id, workspace, ct) is not { } found)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No app '{id}'.");
        }
        var chosen = wanted ?? found.PublishedVersion ?? found.LatestVersion;
        if (await exporter.ExportAsync(found, chosen, documents == true, evaluation == true, ct) is not { } contents)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"The app has no version {chosen} (latest: {found.LatestVersion}).");
        }
        using var package = new MemoryStream();
        AppPackage.Write(package, contents);
        return TypedResults.File(package.ToArray(), AppPackage.MediaType, $"{found.Slug}-v{chosen}{AppPackage.FileExtension}");
    }

    private static async Task<IResult> ImportAsync(HttpContext ctx, [FromQuery] string? workspace, [FromQuery] string? slug, [FromQuery] string[]? mapModel,
        [FromQuery] string[]? mapKnowledgeBase,
        PackageImporter importer, IAccessStore access, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        if (!caller.HasRole(WorkspaceRole.Admin))
        {
            return AdminOnly("Importing apps");
        }
        var errors = new Dictionary<string, string[]>();
        var models = Mappings("mapModel", mapModel, errors);
        var bases = Mappings("mapKnowledgeBase", mapKnowledgeBase, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if ((caller.IsAdmin ? await access.FindWorkspaceAsync(workspace ?? AccessService.DefaultWorkspaceName, ct)
                : await caller.OwnWorkspaceAsync(workspace, access, ct)) is not { } target)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No workspace '{workspace}'.");
        }
        var limits = PackageLimits.Default;
        var body = await BufferAsync(ctx.Request.Body, limits.MaxPackageBytes, ct);
        if (body is null)
        {
            return TypedResults.Problem(statusCode: 413, detail: $"A package is at most {limits.MaxPackageBytes} bytes.");
        }
        var read = AppPackage.Read(body, limits);
        if (read.Contents is not { } contents)
        {
            return TypedResults.Problem(statusCode: 400, title: "Not a usable app package", detail: "The package was refused: " + string.Join("; ", read.Problems.Take(5)),
                extensions: new Dictionary<string, object?> { ["problems"] = read.Problems });
        }
        return await importer.ImportAsync(contents, target, slug, models, bases, caller.Actor, ct) switch
        {
            PackageImport.Done d => TypedResults.Created($"/api/apps/{d.App.Id}", new ImportedView(AppEndpoints.AppView.From(d.App, d.Definition),
                [.. d.KnowledgeBases.Select(k => new ImportedKnowledgeBaseView(k.Id, k.Name, k.PackageName, k.Created,
                    [.. k.Documents.Select(q => new QueuedView(q.Document!.Id, q.Result == Knowledge.QueueResult.Unchanged ? "unchanged" : "queued", q.Document.Source, q.Document.Origin))]))],
                d.EvaluationItems)),
            PackageImport.Unmapped u => TypedResults.Problem(statusCode: 422, title: "Something in the package must be mapped",
                detail: Describe(u), extensions: new Dictionary<string, object?> { ["unmapped"] = new UnmappedView(u.Models, u.KnowledgeBases), ["problems"] = u.Problems }),
            PackageImport.Invalid i => TypedResults.ValidationProblem(i.Errors),
            PackageImport.Conflict c => TypedResults.Problem(statusCode: 409, detail: c.Detail),
            _ => throw new InvalidOperationException("Unknown outcome of an import."),
        };
    }

    private static string Describe(PackageImport.Unmapped u)
    {
        var parts = new List<string>();
        if (u.Models.Count > 0)
        {
            parts.Add($"the workspace has no route {string.Join(", ", u.Models.Select(m => $"'{m}'"))}: map it with mapModel=OLD:NEW");
        }
        if (u.KnowledgeBases.Count > 0)
        {
            parts.Add($"the workspace has no knowledge base {string.Join(", ", u.KnowledgeBases.Select(k => $"'{k}'"))} and the package brings no documents for it: map it with mapKnowledgeBase=OLD:NEW");
        }
        parts.AddRange(u.Problems);
        return string.Join("; ", parts);
    }

    /// <summary>OLD:NEW pairs; the last colon separates them, so an old name may itself hold one.</summary>
    private static Dictionary<string, string> Mappings(string field, string[]? values, Dictionary<string, string[]> errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values ?? [])
        {
            var at = value.LastIndexOf(':');
            if (at <= 0 || at == value.Length - 1 || value.Length > 300 || value.Any(char.IsControl))
            {
                errors.AddError(field, $"'{value}' is not OLD:NEW");
            }
            else if (!result.TryAdd(value[..at], value[(at + 1)..]))
            {
                errors.AddError(field, $"'{value[..at]}' is mapped twice");
            }
        }
        return result;
    }

    /// <summary>The request body in memory, or null as soon as it is larger than <paramref name="max"/>.</summary>
    private static async Task<MemoryStream?> BufferAsync(Stream body, long max, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        buffer.Position = 0;
        return buffer;
    }
}
