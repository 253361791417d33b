using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Mulan.Access;
using Mulan.Audit;
using Mulan.Gateway.Catalog;
using Mulan.Knowledge.Answering;
using Mulan.Knowledge.Embedding;
using Mulan.Knowledge.Ingestion;
using Mulan.Knowledge.Lifecycle;
using Mulan.Knowledge.Retrieval;
using Mulan.Outbound;

namespace Mulan.Knowledge;

public static class KnowledgeEndpoints
{
    public static IEndpointRouteBuilder MapKnowledge(this IEndpointRouteBuilder app)
    {
        var kb = Caller.RequireCaller(app.MapGroup("/api/knowledge-bases"))
            .WithMetadata(new RequestSizeLimitAttribute(1024 * 1024));
        kb.MapPost("/", CreateAsync).WithName("CreateKnowledgeBase").RequireAccess(WorkspaceRole.Admin).WithSummary("Create a knowledge base.");
        kb.MapGet("/", ListAsync).WithName("ListKnowledgeBases").RequireAccess(WorkspaceRole.Viewer);
        kb.MapGet("/{id}", GetAsync).WithName("GetKnowledgeBase").RequireAccess(WorkspaceRole.Viewer);
        kb.MapPatch("/{id}", UpdateAsync).WithName("UpdateKnowledgeBase").RequireAccess(WorkspaceRole.Admin)
            .WithSummary("Rename, describe, change the embedding model (re-embeds in the background, switching over without downtime) or the rerank model.");
        kb.MapPost("/{id}/documents", AddDocumentsAsync).WithName("AddDocuments").RequireAccess(WorkspaceRole.Member)
            .WithSummary("Upload files (multipart), or JSON {title, text} or {url}; ingestion runs in the background.")
            .WithMetadata(new RequestSizeLimitAttribute(long.MaxValue)).DisableAntiforgery();
        kb.MapGet("/{id}/documents/{docId}", GetDocumentAsync).WithName("GetDocument").RequireAccess(WorkspaceRole.Viewer);
        kb.MapPost("/{id}/search", SearchAsync).WithName("SearchKnowledgeBase").RequireAccess(WorkspaceRole.Member).WithSummary("Hybrid (keyword + vector) search with a per-result explanation.");
        kb.MapPost("/{id}/ask", AskAsync).WithName("AskKnowledgeBase").RequireAccess(WorkspaceRole.Member).WithSummary("A grounded answer with citations, or found=false.");
        kb.MapKnowledgeLifecycle();
        return app;
    }

    public sealed record CreateRequest(string? Name, string? Workspace, string? Description, string? EmbeddingModel, string? RerankModel,
        string? OcrModel = null, string? TranscriptionModel = null);

    /// <param name="Description">"" clears it.</param>
    public sealed record UpdateRequest(string? Name, string? Description, string? EmbeddingModel, string? RerankModel,
        string? OcrModel = null, string? TranscriptionModel = null);

    /// <param name="EmbeddingModel">the model searches use, or "none" (keyword only).</param>
    /// <param name="Reembedding">present while a new embedding model is being filled in.</param>
    public sealed record KnowledgeBaseView(string Id, string Name, string Workspace, string? Description, DateTimeOffset CreatedAt, string EmbeddingModel,
        string RerankModel, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ReembeddingView? Reembedding)
    {
        /// <summary>The OCR route for images and scanned PDFs, or "none" (the built-in Tesseract).</summary>
        public string OcrModel { get; init; } = NoModel;

        /// <summary>The transcription route for audio files, or "none" (audio is refused).</summary>
        public string TranscriptionModel { get; init; } = NoModel;

        public static KnowledgeBaseView From(KnowledgeBase k, ReembeddingView? reembedding = null) =>
            new(k.Id, k.Name, k.WorkspaceId, k.Description, k.CreatedAt, k.EmbeddingModel ?? NoModel, k.RerankModel ?? NoModel, reembedding)
            {
                OcrModel = k.OcrModel ?? NoModel, TranscriptionModel = k.TranscriptionModel ?? NoModel,
            };

        /// <summary>The view, with re-embedding progress counted from storage (so it survives a restart).</summary>
        public static async Task<KnowledgeBaseView> WithProgressAsync(KnowledgeBase k, IKnowledgeStore store, ReembeddingWorker reembedding, CancellationToken ct)
        {
            if (k.PendingEmbeddingModel is not { } pending)
            {
                return From(k);
            }
            var (chunks, embedded) = await store.VectorProgressAsync(k.Id, pending, ct);
            var error = reembedding.ProgressOf(k.Id) is { Model: var m, LastError: var e } && m == pending ? e : null;
            return From(k, new ReembeddingView(pending, embedded, chunks, error));
        }
    }

    public sealed record ReembeddingView(string Model, int Embedded, int Chunks, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LastError);

    private const string NoModel = "none";

    /// <param name="Origin">what identifies the source in the knowledge base (file name or URL): uploading it again replaces this document.</param>
    /// <param name="Replaces">while queued or processing: the ready document this one replaces once it is ready.</param>
    public sealed record DocumentView(string Id, string Title, string Source, string Origin, string Status,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error, int Chunks, long Size, string Sha256,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Replaces, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        public static DocumentView From(KnowledgeDocument d) => new(d.Id, d.Title, d.Source, d.OriginKey, DocumentStatusNames.Of(d.Status), d.Error, d.ChunkCount,
            d.Size, d.Sha256, d.Replaces, d.CreatedAt, d.UpdatedAt);
    }

    /// <param name="Status">queued, or unchanged when the same content is already there (<paramref name="Id"/> is then that document).</param>
    /// <param name="Replaces">the ready document of the same source this one replaces once it is ready.</param>
    /// <param name="Superseded">earlier versions of the source that never became ready (queued or failed), deleted.</param>
    public sealed record QueuedDocument(string Id, string Status, string Source,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Replaces,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Superseded);

    public sealed record AddTextRequest(string? Title, string? Text, string? Url);

    public sealed record SearchRequest(string? Query, int? TopK, string? Mode, bool? Rerank);

    public sealed record ResultView(long ChunkId, string DocumentId, string Title, string Text, double Score, string? Section, int? Page, ExplanationView Explanation);

    public sealed record ExplanationView(double? KeywordScore, int? KeywordRank, IReadOnlyDictionary<string, double> MatchedTerms, double? VectorScore, int? VectorRank,
        int FusedRank, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RerankRank);

    public sealed record SearchView(IReadOnlyList<ResultView> Results, string Mode, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Warning);

    public sealed record AskRequest(string? Question, string? Model, int? TopK, string? Mode, bool? Rerank);

    public sealed record CitationView(int Marker, long ChunkId, string DocumentId, string Title, string Text, string? Section, int? Page);

    public sealed record AnswerView(string Answer, bool Found, IReadOnlyList<CitationView> Citations, string Mode,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Warning);

    private static async Task<Results<Created<KnowledgeBaseView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateRequest? body, HttpContext ctx, IKnowledgeStore store, IAccessStore access, KnowledgeEmbedder embedder, CatalogState catalog,
        IOptions<KnowledgeOptions> options, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        if (!caller.HasRole(WorkspaceRole.Admin))
        {
            return TypedResults.Problem(statusCode: 403, detail: "Creating knowledge bases needs the administrator key or a workspace admin.");
        }
        var name = body?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100 || name.Any(char.IsControl))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["required, 1 to 100 characters"] });
        }
        if (body?.Description is { Length: > 2000 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["description"] = ["at most 2000 characters"] });
        }
        var workspace = caller.IsAdmin ? await access.FindWorkspaceAsync(body?.Workspace ?? AccessService.DefaultWorkspaceName, ct)
            : await caller.OwnWorkspaceAsync(body?.Workspace, access, ct);
        if (workspace is null && !caller.IsAdmin)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No workspace '{body?.Workspace}'.");
        }
        if (workspace is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["workspace"] = [$"no workspace '{body?.Workspace}'"] });
        }
        var model = body?.EmbeddingModel?.Trim() ?? options.Value.DefaultEmbeddingModel;
        if (await CheckEmbeddingModelAsync(model, workspace.Id, embedder, ct) is { } invalid)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["embeddingModel"] = [invalid] });
        }
        var rerank = body?.RerankModel?.Trim() ?? NoModel;
        if (CheckRerankModel(rerank, catalog) is { } invalidRerank)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["rerankModel"] = [invalidRerank] });
        }
        var ocr = body?.OcrModel?.Trim() ?? NoModel;
        var transcription = body?.TranscriptionModel?.Trim() ?? NoModel;
        if (MediaModelErrors(ocr, transcription, catalog) is { Count: > 0 } mediaErrors)
        {
            return TypedResults.ValidationProblem(mediaErrors);
        }
        var kb = new KnowledgeBase(KeyMaterial.NewId("kb"), workspace.Id, name, body?.Description, time.GetUtcNow(), model == NoModel ? null : model,
            RerankModel: rerank == NoModel ? null : rerank)
        {
            OcrModel = ocr == NoModel ? null : ocr,
            TranscriptionModel = transcription == NoModel ? null : transcription,
        };
        if (!await store.TryCreateKnowledgeBaseAsync(kb, ct))
        {
            return TypedResults.Problem(statusCode: 409, detail: $"The workspace already has a knowledge base named '{name}'.");
        }
        await audit.RecordAsync(AuditEntries.KnowledgeBaseCreated(caller.Actor, kb));
        return TypedResults.Created($"/api/knowledge-bases/{kb.Id}", KnowledgeBaseView.From(kb));
    }

    private static async Task<Ok<KnowledgeBasesPage>> ListAsync(HttpContext ctx, IKnowledgeStore store, ReembeddingWorker reembedding, CancellationToken ct) =>
        TypedResults.Ok(new KnowledgeBasesPage(await Task.WhenAll((await store.ListKnowledgeBasesAsync(Caller.Of(ctx).WorkspaceId, ct))
            .Select(k => KnowledgeBaseView.WithProgressAsync(k, store, reembedding, ct)))));

    public sealed record KnowledgeBasesPage(IReadOnlyList<KnowledgeBaseView> KnowledgeBases);

    private static async Task<Results<Ok<KnowledgeBaseView>, ProblemHttpResult>> GetAsync(string id, HttpContext ctx, IKnowledgeStore store,
        ReembeddingWorker reembedding, CancellationToken ct) =>
        await FindAsync(id, ctx, store, ct) is { } kb ? TypedResults.Ok(await KnowledgeBaseView.WithProgressAsync(kb, store, reembedding, ct)) : NotFound(id);

    private static async Task<IResult> UpdateAsync(string id, UpdateRequest? body, HttpContext ctx, IKnowledgeStore store, KnowledgeEmbedder embedder,
        CatalogState catalog, KnowledgeIndex index, ReembeddingWorker reembedding, AuditLog audit, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } kb)
        {
            return NotFound(id);
        }
        if (!Caller.Of(ctx).HasRole(WorkspaceRole.Admin))
        {
            return TypedResults.Problem(statusCode: 403, detail: "Changing a knowledge base needs the administrator key or a workspace admin.");
        }
        var model = body?.EmbeddingModel?.Trim();
        var rerank = body?.RerankModel?.Trim();
        var name = body?.Name?.Trim();
        var ocr = body?.OcrModel?.Trim();
        var transcription = body?.TranscriptionModel?.Trim();
        if (string.IsNullOrEmpty(model) && string.IsNullOrEmpty(rerank) && body?.Name is null && body?.Description is null
            && string.IsNullOrEmpty(ocr) && string.IsNullOrEmpty(transcription))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["embeddingModel"] = ["give at least one of name, description, embeddingModel, rerankModel, ocrModel, transcriptionModel (a model name, or 'none')"],
            });
        }
        if (MediaModelErrors(ocr ?? NoModel, transcription ?? NoModel, catalog) is { Count: > 0 } mediaErrors)
        {
            return TypedResults.ValidationProblem(mediaErrors);
        }
        if (body?.Name is not null && (string.IsNullOrEmpty(name) || name.Length > 100 || name.Any(char.IsControl)))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["1 to 100 characters, no control characters"] });
        }
        if (body?.Description is { Length: > 2000 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["description"] = ["at most 2000 characters (\"\" clears it)"] });
        }
        if (!string.IsNullOrEmpty(rerank))
        {
            if (CheckRerankModel(rerank, catalog) is { } invalidRerank)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["rerankModel"] = [invalidRerank] });
            }
        }
        if (!string.IsNullOrEmpty(model) && model != NoModel && model != kb.EmbeddingModel && model != kb.PendingEmbeddingModel
            && await CheckEmbeddingModelAsync(model, kb.WorkspaceId, embedder, ct) is { } invalid)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["embeddingModel"] = [invalid] });
        }
        // Everything is valid: only now change anything, the name first as it is the one change that can still conflict.
        if (body?.Name is not null || body?.Description is not null)
        {
            var description = body.Description is null ? kb.Description : body.Description.Length == 0 ? null : body.Description;
            if (!await store.TryUpdateKnowledgeBaseAsync(kb.Id, name ?? kb.Name, description, ct))
            {
                return TypedResults.Problem(statusCode: 409, detail: $"The workspace already has a knowledge base named '{name}'.");
            }
        }
        if (!string.IsNullOrEmpty(rerank))
        {
            await store.SetRerankModelAsync(kb.Id, rerank == NoModel ? null : rerank, ct);
        }
        if (!string.IsNullOrEmpty(ocr) || !string.IsNullOrEmpty(transcription))
        {
            await store.SetMediaModelsAsync(kb.Id, string.IsNullOrEmpty(ocr) ? kb.OcrModel : ocr == NoModel ? null : ocr,
                string.IsNullOrEmpty(transcription) ? kb.TranscriptionModel : transcription == NoModel ? null : transcription, ct);
        }
        if (model == NoModel)
        {
            await store.SetEmbeddingModelsAsync(kb.Id, null, null, ct);
            index.RetainVectors(kb.Id, []);
        }
        else if (!string.IsNullOrEmpty(model) && model == kb.EmbeddingModel)
        {
            // Back to the active model: any re-embedding in progress is abandoned.
            await store.SetEmbeddingModelsAsync(kb.Id, model, null, ct);
            index.RetainVectors(kb.Id, [model]);
        }
        else if (!string.IsNullOrEmpty(model) && model != kb.PendingEmbeddingModel)
        {
            await store.SetEmbeddingModelsAsync(kb.Id, kb.EmbeddingModel, model, ct);
            index.RetainVectors(kb.Id, kb.EmbeddingModel is null ? [] : [kb.EmbeddingModel]);
            reembedding.Wake();
        }
        var updated = await store.FindKnowledgeBaseAsync(kb.Id, null, ct);
        await audit.RecordAsync(AuditEntries.KnowledgeBaseUpdated(Caller.Of(ctx).Actor, kb, updated!));
        return updated!.PendingEmbeddingModel is null
            ? TypedResults.Ok(await KnowledgeBaseView.WithProgressAsync(updated, store, reembedding, ct))
            : TypedResults.Accepted($"/api/knowledge-bases/{kb.Id}", await KnowledgeBaseView.WithProgressAsync(updated, store, reembedding, ct));
    }

    /// <summary>An OCR route and a transcription route: each a route of that kind in the catalog, or 'none'.</summary>
    private static Dictionary<string, string[]> MediaModelErrors(string ocr, string transcription, CatalogState catalog)
    {
        var errors = new Dictionary<string, string[]>();
        foreach (var (field, model, kind) in new[] { ("ocrModel", ocr, Gateway.Catalog.ModelKind.Ocr), ("transcriptionModel", transcription, Gateway.Catalog.ModelKind.Transcription) })
        {
            if (model == NoModel)
            {
                continue;
            }
            if (model.Length > 200 || !catalog.Current.Models.TryGetValue(model, out var route))
            {
                errors[field] = [$"no model '{(model.Length > 200 ? model[..200] : model)}': name a {Gateway.Catalog.ModelKinds.Name(kind)} route of the catalog, or 'none'"];
            }
            else if (route.Kind != kind)
            {
                errors[field] = [$"'{model}' is a {Gateway.Catalog.ModelKinds.Name(route.Kind)} route; name a {Gateway.Catalog.ModelKinds.Name(kind)} route, or 'none'"];
            }
        }
        return errors;
    }

    private static string? CheckRerankModel(string model, CatalogState catalog) =>
        model.Length > 200 ? "at most 200 characters"
        : model == NoModel || catalog.Current.Models.ContainsKey(model) ? null
        : $"no model '{model}': name a chat model of the catalog, or 'none'";

    /// <summary>A model is accepted only if it embeds a probe text now, so a typo fails here and not in the background.</summary>
    private static async Task<string?> CheckEmbeddingModelAsync(string model, string workspaceId, KnowledgeEmbedder embedder, CancellationToken ct)
    {
        if (model == NoModel)
        {
            return null;
        }
        if (model.Length > 200)
        {
            return "at most 200 characters";
        }
        if (embedder.Unusable(model) is { } unusable)
        {
            return unusable;
        }
        try
        {
            await embedder.EmbedAsync(model, workspaceId, ["probe"], ct);
            return null;
        }
        catch (EmbeddingException e)
        {
            return $"'{model}' could not embed a probe text: {e.Message}";
        }
    }

    private static async Task<IResult> AddDocumentsAsync(string id, HttpContext ctx, IKnowledgeStore store, IngestionService ingestion,
        IOptions<KnowledgeOptions> options, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } kb)
        {
            return NotFound(id);
        }
        if (!Caller.Of(ctx).HasRole(WorkspaceRole.Member))
        {
            return TypedResults.Problem(statusCode: 403, detail: "Adding documents needs the administrator key or a workspace member.");
        }
        var request = ctx.Request;
        if (request.ContentLength > options.Value.MaxUploadBytes)
        {
            return TypedResults.Problem(statusCode: 413, detail: $"Uploads are limited to {options.Value.MaxUploadBytes} bytes.");
        }
        if (request.HasFormContentType && MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.Boundary.HasValue)
        {
            return await AddFilesAsync(kb, request, HeaderUtilities.RemoveQuotes(type.Boundary).Value!, ingestion, options.Value, ct);
        }
        AddTextRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync<AddTextRequest>(ct);
        }
        catch (System.Text.Json.JsonException e)
        {
            return TypedResults.Problem(statusCode: 400, detail: $"Send multipart files, or JSON {{title, text}} or {{url}}: {e.Message}");
        }
        catch (InvalidOperationException)
        {
            return TypedResults.Problem(statusCode: 415, detail: "Send multipart/form-data files, or application/json {title, text} or {url}.");
        }
        if (body?.Url is { } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["url"] = ["must be an absolute http or https URL"] });
            }
            try
            {
                var fetched = await ingestion.AddUrlAsync(kb, uri, ct);
                return fetched is null
                    ? TypedResults.Problem(statusCode: 413, detail: "The fetched resource is larger than the file limit.")
                    : fetched.Result == QueueResult.KnowledgeBaseGone ? KnowledgeBaseGone(kb) : Accepted([fetched]);
            }
            catch (BlockedUrlException e)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["url"] = [e.Message] });
            }
            catch (HttpRequestException e)
            {
                return TypedResults.Problem(statusCode: 502, detail: $"The URL could not be fetched: {e.Message}");
            }
        }
        if (string.IsNullOrWhiteSpace(body?.Text))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["text"] = ["send {title, text}, {url}, or multipart files"] });
        }
        var title = string.IsNullOrWhiteSpace(body.Title) ? "untitled" : body.Title.Trim();
        var document = await ingestion.AddTextAsync(kb, title, body.Text, ct);
        return document is null ? TypedResults.Problem(statusCode: 413, detail: "The text is larger than the file limit.")
            : document.Result == QueueResult.KnowledgeBaseGone ? KnowledgeBaseGone(kb) : Accepted([document]);
    }

    private static async Task<IResult> AddFilesAsync(KnowledgeBase kb, HttpRequest request, string boundary, IngestionService ingestion, KnowledgeOptions options, CancellationToken ct)
    {
        var reader = new MultipartReader(boundary, request.Body) { HeadersLengthLimit = 16 * 1024 };
        var queued = new List<QueuedVersion>();
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition())
                {
                    continue;
                }
                var given = (disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "upload";
                var fileName = Path.GetFileName(given.Replace('\\', '/')).Trim('"', ' ');
                if (fileName.Length == 0)
                {
                    fileName = "upload";
                }
                var document = await ingestion.AddAsync(kb, fileName, fileName, section.ContentType, section.Body, ct, origin: Origin(given, fileName));
                if (document is null)
                {
                    return TypedResults.Problem(statusCode: 413,
                        detail: $"'{fileName}' is larger than {options.MaxFileBytes} bytes; {queued.Count} earlier file(s) were queued: {string.Join(", ", queued.Select(q => q.Document!.Id))}");
                }
                if (document.Result == QueueResult.KnowledgeBaseGone)
                {
                    return KnowledgeBaseGone(kb);
                }
                queued.Add(document);
            }
        }
        catch (InvalidDataException e)
        {
            return TypedResults.Problem(statusCode: 400, detail: $"Malformed multipart body: {e.Message}");
        }
        return queued.Count == 0
            ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["files"] = ["no file parts in the multipart body"] })
            : Accepted(queued);
    }

    /// <summary>
    /// What identifies an uploaded file's source: the relative path it was given with (a folder upload's
    /// <c>sub/readme.md</c> and <c>readme.md</c> are two documents), without '.', '..' or empty segments. Only ever
    /// compared, never used as a path: stored files are named by generated ids.
    /// </summary>
    internal static string Origin(string given, string fileName)
    {
        var segments = given.Trim('"', ' ').Replace('\\', '/').Split('/').Where(s => s.Length > 0 && s != "." && s != "..").ToList();
        return segments.Count > 1 && segments[^1] == fileName ? string.Join('/', segments) : fileName;
    }

    /// <summary>Always 202, as the API has always answered an upload; a document whose content is unchanged says so in
    /// its <c>status</c>.</summary>
    private static IResult Accepted(IReadOnlyList<QueuedVersion> versions) =>
        TypedResults.Json(new
        {
            documents = versions.Select(v => new QueuedDocument(v.Document!.Id, v.Result == QueueResult.Unchanged ? "unchanged" : DocumentStatusNames.Of(v.Document.Status),
                v.Document.Source, v.Replaces, v.Superseded.Count > 0 ? v.Superseded : null)),
        }, statusCode: StatusCodes.Status202Accepted);

    private static ProblemHttpResult KnowledgeBaseGone(KnowledgeBase kb) =>
        TypedResults.Problem(statusCode: 404, detail: $"No knowledge base '{kb.Id}' (it was deleted).");

    private static async Task<IResult> GetDocumentAsync(string id, string docId, HttpContext ctx, IKnowledgeStore store, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } kb)
        {
            return NotFound(id);
        }
        return await store.GetDocumentAsync(kb.Id, docId, ct) is { } document
            ? TypedResults.Ok(DocumentView.From(document))
            : TypedResults.Problem(statusCode: 404, detail: $"No document '{docId}' in this knowledge base.");
    }

    private static async Task<IResult> SearchAsync(string id, SearchRequest? body, HttpContext ctx, IKnowledgeStore store, KnowledgeSearch search,
        IOptions<KnowledgeOptions> options, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } kb)
        {
            return NotFound(id);
        }
        if (Invalid(body?.Query, body?.TopK, "query") is { } problem)
        {
            return problem;
        }
        if (!TryParseMode(body!.Mode, out var mode))
        {
            return InvalidMode();
        }
        var outcome = await search.SearchAsync(kb, body.Query!, body.TopK ?? options.Value.DefaultTopK, mode, body.Rerank, ct);
        return TypedResults.Ok(new SearchView([.. outcome.Results.Select(ToView)], ModeName(outcome.Mode), outcome.Warning));
    }

    /// <summary>The mode asked for; null when none was (hybrid if the knowledge base has vectors, else keyword).</summary>
    private static bool TryParseMode(string? text, out SearchMode? mode)
    {
        mode = text switch
        {
            "hybrid" => SearchMode.Hybrid,
            "keyword" => SearchMode.Keyword,
            "vector" => SearchMode.Vector,
            _ => null,
        };
        return text is null || mode is not null;
    }

    private static string ModeName(SearchMode mode) => mode.ToString().ToLowerInvariant();

    private static IResult InvalidMode() =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["mode"] = ["one of hybrid, keyword, vector (default: hybrid when the knowledge base has an embedding model, else keyword)"] });

    private static async Task<IResult> AskAsync(string id, AskRequest? body, HttpContext ctx, IKnowledgeStore store, KnowledgeSearch search,
        ExtractiveAnswerer extractive, GroundedAnswerer grounded, IOptions<KnowledgeOptions> options, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } kb)
        {
            return NotFound(id);
        }
        if (Invalid(body?.Question, body?.TopK, "question") is { } problem)
        {
            return problem;
        }
        if (!TryParseMode(body!.Mode, out var mode))
        {
            return InvalidMode();
        }
        var results = (await search.SearchAsync(kb, body.Question!, body.TopK ?? Math.Max(5, options.Value.DefaultTopK), mode, body.Rerank, ct)).Results;
        Answer answer;
        if (body.Model is { } model)
        {
            // Generative answers are a gateway call, billed to the caller's virtual key like any other.
            var caller = Caller.Of(ctx);
            if (caller.IsAdmin)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["model"] = ["answers through a chat model are billed to a virtual key: call ask with a virtual key of this workspace, or omit 'model' for an extractive answer"],
                });
            }
            try
            {
                // A signed-in user has no key of their own: the answer is billed to the workspace's knowledge service key,
                // and the usage record names the user.
                answer = caller.Kind == CallerKind.User
                    ? await grounded.AnswerAsync(body.Question!, results, model, ctx.RequestServices.GetRequiredService<ServiceKeys>().BearerFor(kb.WorkspaceId), ct,
                        "user:" + caller.UserId)
                    : await grounded.AnswerAsync(body.Question!, results, model, BearerToken.Of(ctx.Request)!, ct);
            }
            catch (GatewayCallException e)
            {
                return TypedResults.Problem(statusCode: e.Status is >= 400 and < 500 ? e.Status : 502, detail: $"The chat model could not answer: {e.Message}");
            }
        }
        else
        {
            answer = extractive.Answer(body.Question!, results);
        }
        answer = answer.Grounded(body.Question!);
        return TypedResults.Ok(new AnswerView(answer.Text, answer.Found,
            [.. answer.Citations.Select(c => new CitationView(c.Marker, c.Chunk.Id, c.Chunk.DocumentId, c.Chunk.Title, c.Chunk.Text, c.Chunk.Section, c.Chunk.Page))],
            answer.Mode, answer.Warning));
    }

    private static IResult? Invalid(string? text, int? topK, string field)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(text) || text.Length > 4000)
        {
            errors[field] = ["required, at most 4000 characters"];
        }
        if (topK is < 1 or > KnowledgeSearch.MaxTopK)
        {
            errors["topK"] = [$"must be between 1 and {KnowledgeSearch.MaxTopK}"];
        }
        return errors.Count > 0 ? TypedResults.ValidationProblem(errors) : null;
    }

    internal static ResultView ToView(SearchResult r) => new(r.Chunk.Id, r.Chunk.DocumentId, r.Chunk.Title, r.Chunk.Text, r.Score, r.Chunk.Section, r.Chunk.Page,
        new ExplanationView(r.Explanation.KeywordScore, r.Explanation.KeywordRank, r.Explanation.MatchedTerms.ToDictionary(t => t.Term, t => t.Score),
            r.Explanation.VectorScore, r.Explanation.VectorRank, r.Explanation.FusedRank, r.Explanation.RerankRank));

    internal static Task<KnowledgeBase?> FindAsync(string id, HttpContext ctx, IKnowledgeStore store, CancellationToken ct) =>
        store.FindKnowledgeBaseAsync(id, Caller.Of(ctx).WorkspaceId, ct);

    internal static ProblemHttpResult NotFound(string id) => TypedResults.Problem(statusCode: 404, detail: $"No knowledge base '{id}'.");
}
