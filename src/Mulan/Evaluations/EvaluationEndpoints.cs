using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Mulan.Access;
using Mulan.Apps;
using Mulan.Audit;
using Mulan.Hosting.Problems;
using Mulan.Knowledge;

namespace Mulan.Evaluations;

/// <summary>
/// <c>/api/evaluations</c>: sets (JSON or an uploaded CSV, JSONL or XLSX file; every change a new version), runs against
/// an app or a model route, compare and bake-off. The administrator names the workspace; a virtual key works in its own
/// workspace and sees any other workspace's set or run as 404.
/// </summary>
public static class EvaluationEndpoints
{
    public const long MaxUploadBytes = 10 * 1024 * 1024;
    public const int MaxListLimit = 200;
    public const int MaxFeedbackItems = 1_000;

    public static IEndpointRouteBuilder MapEvaluationEndpoints(this IEndpointRouteBuilder app)
    {
        var g = Caller.RequireCaller(app.MapGroup("/api/evaluations")).WithMetadata(new RequestSizeLimitAttribute(MaxUploadBytes + 64 * 1024));
        g.MapPost("/sets", CreateSetAsync).WithName("CreateEvaluationSet").RequireAccess(WorkspaceRole.Admin).WithSummary("A set from JSON items or an uploaded CSV, JSONL or XLSX file: 201 with version 1.")
            .DisableAntiforgery();
        g.MapGet("/sets", ListSetsAsync).WithName("ListEvaluationSets").RequireAccess(WorkspaceRole.Viewer);
        g.MapGet("/sets/{id}", GetSetAsync).WithName("GetEvaluationSet").RequireAccess(WorkspaceRole.Viewer).WithSummary("The set's latest items, or those of ?version=.");
        g.MapPut("/sets/{id}", ReplaceSetAsync).WithName("ReplaceEvaluationSet").RequireAccess(WorkspaceRole.Admin).WithSummary("New items (JSON or a file) as the set's next version.").DisableAntiforgery();
        g.MapPost("/sets/{id}/items", AddItemsAsync).WithName("AddEvaluationItems").RequireAccess(WorkspaceRole.Admin).WithSummary("The latest items plus these, as the next version.");
        g.MapPost("/sets/{id}/from-feedback", FromFeedbackAsync).WithName("EvaluationItemsFromFeedback").RequireAccess(WorkspaceRole.Admin)
            .WithSummary("Corrected answers of an app's feedback as items (question, referenceAnswer = the correction), as the next version.");
        g.MapDelete("/sets/{id}", DeleteSetAsync).WithName("DeleteEvaluationSet").RequireAccess(WorkspaceRole.Admin);
        g.MapPost("/runs", StartRunAsync).WithName("StartEvaluationRun").RequireAccess(WorkspaceRole.Member).WithSummary("Runs a set version against a target: 202 with the run.");
        g.MapGet("/runs", ListRunsAsync).WithName("ListEvaluationRuns").RequireAccess(WorkspaceRole.Viewer);
        g.MapGet("/runs/{id}", GetRunAsync).WithName("GetEvaluationRun").RequireAccess(WorkspaceRole.Viewer).WithSummary("Status, overall metrics and each item's result.");
        g.MapPost("/runs/{id}/cancel", CancelRunAsync).WithName("CancelEvaluationRun").RequireAccess(WorkspaceRole.Admin);
        g.MapGet("/compare", CompareAsync).WithName("CompareEvaluationRuns").RequireAccess(WorkspaceRole.Viewer).WithSummary("Two runs item by item: better, worse or unchanged per item and metric.");
        g.MapGet("/bakeoff", BakeoffAsync).WithName("EvaluationBakeoff").RequireAccess(WorkspaceRole.Viewer).WithSummary("Runs side by side, ranked by weighted, normalized metrics.");
        return app;
    }

    public sealed record SetView(string Id, string Name, string Workspace, int Version, int LatestVersion, IReadOnlyList<EvaluationItem> Items,
        DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public sealed record SetSummary(string Id, string Name, string Workspace, int Version, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public sealed record Money(decimal Amount, string? Currency);

    public sealed record RunSummary(string Id, string Status, string? Reason, string Set, int SetVersion, EvaluationTarget Target, string? Judge,
        int Items, int Done, DateTimeOffset CreatedAt, DateTimeOffset? EndedAt);

    public sealed record Tokens(long Prompt, long Completion);

    public sealed record RunView(string Id, string Status, string? Reason, string Workspace, string Set, int SetVersion, EvaluationTarget Target, string? Judge,
        int? RubricVersion, int Concurrency, decimal? MaxCost, int ItemCount, int Done, Dictionary<string, object?> Metrics, IReadOnlyList<EvaluationItemResult> Items,
        DateTimeOffset CreatedAt, DateTimeOffset? EndedAt);

    private static IResult NotFound(string what, string id) => TypedResults.Problem(statusCode: 404, detail: $"No evaluation {what} '{id}'.");

    private static async Task<EvaluationSet?> FindSetAsync(string id, HttpContext ctx, IEvaluationStore store, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var set = await store.FindSetAsync(id, ct);
        return set is null || (caller.WorkspaceId is { } ws && set.WorkspaceId != ws) ? null : set;
    }

    private static async Task<EvaluationRun?> FindRunAsync(string id, HttpContext ctx, IEvaluationStore store, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var run = await store.FindRunAsync(id, ct);
        return run is null || (caller.WorkspaceId is { } ws && run.WorkspaceId != ws) ? null : run;
    }

    private static void OnlyProperties(JsonObject body, Dictionary<string, string[]> errors, params string[] allowed)
    {
        foreach (var (name, _) in body)
        {
            if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                errors.AddError("$." + name, $"unknown property (allowed: {string.Join(", ", allowed)})");
            }
        }
    }

    private static string? String(JsonObject body, string name, Dictionary<string, string[]> errors, int max)
    {
        if (body[name] is null)
        {
            return null;
        }
        if (body[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Trim().Length is > 0 && s.Length <= max)
        {
            return s.Trim();
        }
        errors.AddError("$." + name, $"must be a non-empty string of at most {max} characters");
        return null;
    }

    /// <summary>The workspace a new object goes in: the key's own, or the one the administrator names.</summary>
    private static async Task<string?> WorkspaceAsync(Caller caller, string? named, string field, Dictionary<string, string[]> errors, IAccessStore access,
        CancellationToken ct)
    {
        if (caller.WorkspaceId is { } own)
        {
            if (named is not null && (await access.FindWorkspaceAsync(named, ct))?.Id != own)
            {
                errors.AddError(field, "a virtual key works in its own workspace only");
            }
            return own;
        }
        if (named is null)
        {
            errors.AddError(field, "required with the administrator key: the workspace (id or name)");
            return null;
        }
        var ws = await access.FindWorkspaceAsync(named, ct);
        if (ws is null)
        {
            errors.AddError(field, $"no workspace '{named}'");
        }
        return ws?.Id;
    }

    /// <summary>Items and fields of a request: a JSON body, or a multipart form with <c>file</c> (and its text fields).</summary>
    private static async Task<(List<EvaluationItem> Items, Dictionary<string, string?> Fields, IResult? Problem)> ReadItemsAsync(HttpRequest request,
        string[] fields, bool itemsRequired, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            foreach (var key in form.Keys)
            {
                if (!fields.Contains(key, StringComparer.Ordinal))
                {
                    errors.AddError(key, $"unknown form field (allowed: file, {string.Join(", ", fields)})");
                }
                else
                {
                    values[key] = form[key].ToString().Trim() is { Length: > 0 } v ? v : null;
                }
            }
            var file = form.Files.GetFile("file");
            if (file is null)
            {
                errors.AddError("file", "required: a .csv, .jsonl or .xlsx file of items");
                return ([], values, TypedResults.ValidationProblem(errors));
            }
            if (file.Length > MaxUploadBytes)
            {
                errors.AddError("file", $"at most {MaxUploadBytes} bytes");
                return ([], values, TypedResults.ValidationProblem(errors));
            }
            var format = Path.GetExtension(file.FileName).TrimStart('.').ToLowerInvariant();
            using var buffer = new MemoryStream();
            await file.CopyToAsync(buffer, ct);
            var items = EvaluationItems.FromFile(format, buffer.ToArray(), errors);
            return (items, values, errors.Count > 0 ? TypedResults.ValidationProblem(errors) : null);
        }
        var (body, problem) = await JsonBody.ReadObjectAsync(request, ct);
        if (problem is not null)
        {
            return ([], values, problem);
        }
        OnlyProperties(body!, errors, [.. fields, "items"]);
        foreach (var f in fields)
        {
            values[f] = String(body!, f, errors, 200);
        }
        var list = itemsRequired || body!["items"] is not null ? EvaluationItems.FromJson(body!["items"], "$.items", errors) : [];
        return (list, values, errors.Count > 0 ? TypedResults.ValidationProblem(errors) : null);
    }

    private static SetView View(EvaluationSet s, EvaluationSetVersion v) => new(s.Id, s.Name, s.WorkspaceId, v.Version, s.LatestVersion, v.Items, s.CreatedAt, s.UpdatedAt);

    private static async Task<IResult> CreateSetAsync(HttpContext ctx, IEvaluationStore store, IAccessStore access, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var (items, fields, problem) = await ReadItemsAsync(ctx.Request, ["name", "workspace"], itemsRequired: true, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        var name = fields.GetValueOrDefault("name");
        if (name is null or { Length: > 200 })
        {
            errors.AddError(ctx.Request.HasFormContentType ? "name" : "$.name", "required: the set's name, at most 200 characters");
        }
        var ws = await WorkspaceAsync(caller, fields.GetValueOrDefault("workspace"), ctx.Request.HasFormContentType ? "workspace" : "$.workspace", errors, access, ct);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var now = time.GetUtcNow();
        var set = new EvaluationSet(KeyMaterial.NewId("evs"), ws!, name!, 1, now, now);
        var version = new EvaluationSetVersion(set.Id, 1, items, now);
        await store.CreateSetAsync(set, version, ct);
        await audit.RecordAsync(new AuditEntry(caller.Actor, "evaluation_set.create", "evaluation_set", set.Id, set.WorkspaceId,
            new JsonObject { ["name"] = set.Name, ["items"] = items.Count }));
        return TypedResults.Created($"/api/evaluations/sets/{set.Id}", View(set, version));
    }

    private static async Task<IResult> ListSetsAsync(HttpContext ctx, string? workspace, IEvaluationStore store, IAccessStore access, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var errors = new Dictionary<string, string[]>();
        var ws = caller.WorkspaceId ?? await access.ResolveAsync(workspace, errors, ct);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var sets = await store.SetsAsync(ws, ct);
        return TypedResults.Ok(new { sets = sets.Select(s => new SetSummary(s.Id, s.Name, s.WorkspaceId, s.LatestVersion, s.CreatedAt, s.UpdatedAt)) });
    }

    private static async Task<IResult> GetSetAsync(string id, HttpContext ctx, int? version, IEvaluationStore store, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        errors.Range("version", version, 1, int.MaxValue);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (await FindSetAsync(id, ctx, store, ct) is not { } set)
        {
            return NotFound("set", id);
        }
        if (await store.VersionAsync(set.Id, version ?? set.LatestVersion, ct) is not { } v)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"Evaluation set '{id}' has no version {version} (its latest is {set.LatestVersion}).");
        }
        return TypedResults.Ok(View(set, v));
    }

    private static async Task<IResult> NewVersionAsync(HttpContext ctx, EvaluationSet set, IReadOnlyList<EvaluationItem> items, string action, IEvaluationStore store,
        AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        if (items.Count > EvaluationItems.MaxItems)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["$.items"] = [$"a set holds at most {EvaluationItems.MaxItems} items"] });
        }
        var now = time.GetUtcNow();
        var version = new EvaluationSetVersion(set.Id, set.LatestVersion + 1, items, now);
        if (!await store.AddVersionAsync(set.Id, version, now, ct))
        {
            return TypedResults.Problem(statusCode: 409, detail: $"Evaluation set '{set.Id}' changed meanwhile (or was deleted); read it again and retry.",
                extensions: new Dictionary<string, object?> { ["code"] = "evaluation_set_changed" });
        }
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, action, "evaluation_set", set.Id, set.WorkspaceId,
            new JsonObject { ["version"] = version.Version, ["items"] = items.Count }));
        return TypedResults.Ok(View(set with { LatestVersion = version.Version, UpdatedAt = now }, version));
    }

    private static async Task<IResult> ReplaceSetAsync(string id, HttpContext ctx, IEvaluationStore store, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        if (await FindSetAsync(id, ctx, store, ct) is not { } set)
        {
            return NotFound("set", id);
        }
        var (items, _, problem) = await ReadItemsAsync(ctx.Request, [], itemsRequired: true, ct);
        return problem ?? await NewVersionAsync(ctx, set, items, "evaluation_set.replace", store, audit, time, ct);
    }

    private static async Task<IResult> AddItemsAsync(string id, HttpContext ctx, IEvaluationStore store, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        if (await FindSetAsync(id, ctx, store, ct) is not { } set)
        {
            return NotFound("set", id);
        }
        var (items, _, problem) = await ReadItemsAsync(ctx.Request, [], itemsRequired: true, ct);
        if (problem is not null)
        {
            return problem;
        }
        var latest = await store.VersionAsync(set.Id, set.LatestVersion, ct);
        return await NewVersionAsync(ctx, set, [.. latest?.Items ?? [], .. items], "evaluation_set.add_items", store, audit, time, ct);
    }

    private static async Task<IResult> FromFeedbackAsync(string id, HttpContext ctx, IEvaluationStore store, IAppStore apps, AuditLog audit, TimeProvider time,
        CancellationToken ct)
    {
        if (await FindSetAsync(id, ctx, store, ct) is not { } set)
        {
            return NotFound("set", id);
        }
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        OnlyProperties(body!, errors, "app");
        var appRef = String(body!, "app", errors, 200);
        if (appRef is null && errors.Count == 0)
        {
            errors.AddError("$.app", "required: the app (id or slug) whose feedback corrections become items");
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var app = await apps.FindAsync(appRef!, ct) is { } byId && byId.WorkspaceId == set.WorkspaceId ? byId
            : (await apps.ListAsync(set.WorkspaceId, ct)).FirstOrDefault(a => a.Slug == appRef);
        if (app is null || app.WorkspaceId != set.WorkspaceId)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No app '{appRef}' in the set's workspace.");
        }
        var latest = await store.VersionAsync(set.Id, set.LatestVersion, ct);
        var existing = (latest?.Items ?? []).Select(i => (i.Question, i.ReferenceAnswer)).ToHashSet();
        var added = (await apps.FeedbackAsync(set.WorkspaceId, app.Id, null, MaxFeedbackItems, ct))
            // Feedback allows longer questions and corrections than an item does: those are left out, so that the new
            // version is a set the API itself would accept (and can be written back as it is read).
            .Where(f => f.Correction?.Trim() is { Length: > 0 and <= EvaluationItems.MaxTextLength }
                && f.Question.Trim().Length is > 0 and <= EvaluationItems.MaxQuestionLength)
            .Select(f => new EvaluationItem(f.Question.Trim(), ReferenceAnswer: f.Correction!.Trim(), Tags: ["feedback", "app:" + app.Slug]))
            .Where(i => existing.Add((i.Question, i.ReferenceAnswer)))
            .ToList();
        if (added.Count == 0)
        {
            return TypedResults.Problem(statusCode: 409, detail: $"App '{app.Slug}' has no feedback with a correction that is not already in the set.",
                extensions: new Dictionary<string, object?> { ["code"] = "no_new_feedback" });
        }
        return await NewVersionAsync(ctx, set, [.. latest?.Items ?? [], .. added], "evaluation_set.from_feedback", store, audit, time, ct);
    }

    private static async Task<IResult> DeleteSetAsync(string id, HttpContext ctx, IEvaluationStore store, AuditLog audit, CancellationToken ct)
    {
        if (await FindSetAsync(id, ctx, store, ct) is not { } set || !await store.DeleteSetAsync(set.Id, ct))
        {
            return NotFound("set", id);
        }
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, "evaluation_set.delete", "evaluation_set", set.Id, set.WorkspaceId, null));
        return TypedResults.NoContent();
    }

    private static async Task<IResult> StartRunAsync(HttpContext ctx, IEvaluationStore store, IAppStore apps, IKnowledgeStore knowledge, EvaluationRunner runner,
        Gateway.Catalog.CatalogState catalog, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        OnlyProperties(body!, errors, "set", "version", "target", "judge", "concurrency", "maxCost");
        var setId = String(body!, "set", errors, 200);
        if (setId is null && body!["set"] is null)
        {
            errors.AddError("$.set", "required: the evaluation set's id");
        }
        int? version = null;
        if (body!["version"] is not null)
        {
            if (body["version"] is JsonValue vv && vv.TryGetValue<int>(out var n) && n >= 1)
            {
                version = n;
            }
            else
            {
                errors.AddError("$.version", "must be an integer of at least 1");
            }
        }
        var concurrency = 4;
        if (body["concurrency"] is not null)
        {
            if (body["concurrency"] is JsonValue cv && cv.TryGetValue<int>(out var c) && c is >= 1 and <= EvaluationRunner.MaxConcurrency)
            {
                concurrency = c;
            }
            else
            {
                errors.AddError("$.concurrency", $"must be an integer between 1 and {EvaluationRunner.MaxConcurrency}");
            }
        }
        decimal? maxCost = null;
        if (body["maxCost"] is not null)
        {
            if (body["maxCost"] is JsonValue mv && mv.TryGetValue<decimal>(out var m) && m > 0 && m <= 1_000_000_000m)
            {
                maxCost = m;
            }
            else
            {
                errors.AddError("$.maxCost", "must be a positive number (in the currency of the target's prices)");
            }
        }
        var judge = String(body, "judge", errors, 200);
        if (judge is not null && !catalog.Current.Models.ContainsKey(judge))
        {
            errors.AddError("$.judge", $"no model route '{judge}'");
        }
        EvaluationTarget? target = null;
        if (body["target"] is JsonObject t)
        {
            OnlyProperties(t, errors, "app", "model", "knowledgeBase");
            string? Name(string field)
            {
                if (t[field] is null)
                {
                    return null;
                }
                if (t[field] is JsonValue tv && tv.TryGetValue<string>(out var name) && name.Trim().Length > 0 && name.Length <= 200)
                {
                    return name.Trim();
                }
                errors.AddError("$.target." + field, "must be a non-empty string of at most 200 characters");
                return null;
            }
            var (appName, modelName, kbName) = (Name("app"), Name("model"), Name("knowledgeBase"));
            // A knowledge base's ask may name the chat model that writes its answer (without one it quotes, extractively).
            if (t["app"] is not null && (t["model"] is not null || t["knowledgeBase"] is not null) || t.Count == 0 || t.All(p => p.Value is null))
            {
                errors.AddError("$.target", "must name an app, a model, or a knowledgeBase (with an optional model for its answers)");
            }
            else if (appName is not null || modelName is not null || kbName is not null)
            {
                target = new EvaluationTarget(appName, modelName, kbName);
            }
        }
        else
        {
            errors.AddError("$.target", "required: {app}, {model} or {knowledgeBase, model?}");
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (await FindSetAsync(setId!, ctx, store, ct) is not { } set)
        {
            return NotFound("set", setId!);
        }
        if (await store.VersionAsync(set.Id, version ?? set.LatestVersion, ct) is not { } v)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"Evaluation set '{set.Id}' has no version {version} (its latest is {set.LatestVersion}).");
        }
        string? appId = null;
        if (target!.App is { } appRef)
        {
            var app = await apps.FindAsync(appRef, ct) is { } byId && byId.WorkspaceId == set.WorkspaceId ? byId
                : (await apps.ListAsync(set.WorkspaceId, ct)).FirstOrDefault(a => a.Slug == appRef);
            if (app is null)
            {
                return TypedResults.Problem(statusCode: 404, detail: $"No app '{appRef}' in the set's workspace.");
            }
            appId = app.Id;
            target = new EvaluationTarget(App: app.Id);
        }
        else if (target.KnowledgeBase is { } kbRef)
        {
            if (await knowledge.FindKnowledgeBaseAsync(kbRef, set.WorkspaceId, ct) is not { } kb)
            {
                return TypedResults.Problem(statusCode: 404, detail: $"No knowledge base '{kbRef}' in the set's workspace.");
            }
            target = target with { KnowledgeBase = kb.Id };
        }
        var targetProblem = await runner.TargetProblemAsync(set.WorkspaceId, target, ct);
        if (targetProblem is not null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["$.target"] = [targetProblem] });
        }
        var now = time.GetUtcNow();
        var run = new EvaluationRun(KeyMaterial.NewId("evr"), set.WorkspaceId, set.Id, v.Version, target, appId, judge, concurrency, maxCost,
            EvaluationRunStatuses.Running, null, v.Items.Count, now, now, null);
        await store.CreateRunAsync(run, ct);
        await audit.RecordAsync(new AuditEntry(caller.Actor, "evaluation_run.start", "evaluation_run", run.Id, run.WorkspaceId,
            new JsonObject { ["set"] = set.Id, ["version"] = v.Version, ["app"] = target.App, ["model"] = target.Model, ["knowledgeBase"] = target.KnowledgeBase,
                ["judge"] = judge }));
        runner.Start(run.Id);
        return TypedResults.Accepted($"/api/evaluations/runs/{run.Id}", await ViewAsync(run, store, ct));
    }

    public static async Task<RunView> ViewAsync(EvaluationRun run, IEvaluationStore store, CancellationToken ct)
    {
        var items = await store.ItemsAsync(run.Id, ct);
        return new RunView(run.Id, run.Status, run.Reason, run.WorkspaceId, run.SetId, run.SetVersion, run.Target, run.Judge, run.Judge is null ? null : JudgeRubric.Version,
            run.Concurrency, run.MaxCost, run.ItemCount, items.Count, MetricsView(items), items, run.CreatedAt, run.EndedAt);
    }

    /// <summary>The overall metrics as the API shows them: cost as money, with the judge's cost and the tokens beside.</summary>
    public static Dictionary<string, object?> MetricsView(IReadOnlyList<EvaluationItemResult> items)
    {
        var view = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in RunScoring.Overall(items))
        {
            view[name] = value;
        }
        var currency = items.Select(i => i.Currency).FirstOrDefault(c => c is not null);
        view[EvaluationMetrics.Cost] = new Money(items.Sum(i => i.Cost), currency);
        view["judgeCost"] = new Money(items.Sum(i => i.JudgeCost), currency);
        view["tokens"] = new Tokens(items.Sum(i => i.PromptTokens), items.Sum(i => i.CompletionTokens));
        view["errors"] = items.Count(i => i.Error is not null);
        return view;
    }

    private static async Task<IResult> ListRunsAsync(HttpContext ctx, string? workspace, string? set, string? status, int? limit, IEvaluationStore store,
        IAccessStore access, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var errors = new Dictionary<string, string[]>();
        errors.Range("limit", limit, 1, MaxListLimit);
        if (status is not null and not (EvaluationRunStatuses.Running or EvaluationRunStatuses.Succeeded or EvaluationRunStatuses.Failed or EvaluationRunStatuses.Cancelled))
        {
            errors.AddError("status", "must be running, succeeded, failed or cancelled");
        }
        var ws = caller.WorkspaceId ?? await access.ResolveAsync(workspace, errors, ct);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var runs = await store.RunsAsync(ws, set, status, limit ?? 50, ct);
        var views = new List<RunSummary>();
        foreach (var r in runs)
        {
            var done = r.Status == EvaluationRunStatuses.Succeeded ? r.ItemCount : (await store.ItemsAsync(r.Id, ct)).Count;
            views.Add(new RunSummary(r.Id, r.Status, r.Reason, r.SetId, r.SetVersion, r.Target, r.Judge, r.ItemCount, done, r.CreatedAt, r.EndedAt));
        }
        return TypedResults.Ok(new { runs = views });
    }

    private static async Task<IResult> GetRunAsync(string id, HttpContext ctx, IEvaluationStore store, CancellationToken ct) =>
        await FindRunAsync(id, ctx, store, ct) is { } run ? TypedResults.Ok(await ViewAsync(run, store, ct)) : NotFound("run", id);

    private static async Task<IResult> CancelRunAsync(string id, HttpContext ctx, IEvaluationStore store, EvaluationRunner runner, AuditLog audit, CancellationToken ct)
    {
        if (await FindRunAsync(id, ctx, store, ct) is not { } run)
        {
            return NotFound("run", id);
        }
        if (!await runner.CancelAsync(run.Id, ct))
        {
            return TypedResults.Problem(statusCode: 409, detail: $"Evaluation run '{id}' has already ended ({(await store.FindRunAsync(run.Id, ct))?.Status}).",
                extensions: new Dictionary<string, object?> { ["code"] = "evaluation_run_ended" });
        }
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, "evaluation_run.cancel", "evaluation_run", run.Id, run.WorkspaceId, null));
        return TypedResults.Ok(await ViewAsync((await store.FindRunAsync(run.Id, ct))!, store, ct));
    }

    private static async Task<IResult> CompareAsync(string? a, string? b, HttpContext ctx, IEvaluationStore store, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(a))
        {
            errors.AddError("a", "required: the baseline run's id");
        }
        if (string.IsNullOrWhiteSpace(b))
        {
            errors.AddError("b", "required: the run to compare with it");
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (await FindRunAsync(a!, ctx, store, ct) is not { } ra)
        {
            return NotFound("run", a!);
        }
        if (await FindRunAsync(b!, ctx, store, ct) is not { } rb)
        {
            return NotFound("run", b!);
        }
        if (ra.SetId != rb.SetId)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["b"] = [$"run '{rb.Id}' is of set '{rb.SetId}', not '{ra.SetId}': compare runs of one set"] });
        }
        return TypedResults.Ok(RunComparison.Compare(ra, await store.ItemsAsync(ra.Id, ct), rb, await store.ItemsAsync(rb.Id, ct)));
    }

    private static async Task<IResult> BakeoffAsync(string? runs, string? weights, HttpContext ctx, IEvaluationStore store, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var ids = (runs ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        if (ids.Count is < 1 or > 20)
        {
            errors.AddError("runs", "required: 1 to 20 run ids, comma separated");
        }
        var parsed = Bakeoff.ParseWeights(weights, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var rows = new List<(EvaluationRun, IReadOnlyList<EvaluationItemResult>)>();
        foreach (var id in ids)
        {
            if (await FindRunAsync(id, ctx, store, ct) is not { } run)
            {
                return NotFound("run", id);
            }
            rows.Add((run, await store.ItemsAsync(run.Id, ct)));
        }
        return TypedResults.Ok(Bakeoff.Rank(rows, parsed));
    }
}
