using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Mulan.Access;
using Mulan.Gateway;
using Mulan.Gateway.Wire;
using Mulan.Hosting;
using Mulan.Hosting.Problems;
using Mulan.Knowledge;

namespace Mulan.Apps;

/// <summary><c>/api/apps</c>: definitions and versions (administrator), reading them, conversations and feedback (also a
/// virtual key of the app's workspace, which sees only its own workspace: any other id is 404).</summary>
public static class AppEndpoints
{
    public const int MaxDefinitionBytes = 256 * 1024;

    public static IEndpointRouteBuilder MapApps(this IEndpointRouteBuilder app)
    {
        var apps = Caller.RequireCaller(app.MapGroup("/api/apps")).WithMetadata(new RequestSizeLimitAttribute(MaxDefinitionBytes));
        apps.MapPost("/", CreateAsync).WithName("CreateApp").RequireAccess(WorkspaceRole.Admin).WithSummary("Create an app from its definition (version 1, not yet published).");
        apps.MapGet("/", ListAsync).WithName("ListApps").RequireAccess(WorkspaceRole.Viewer);
        apps.MapGet("/{id}", GetAsync).WithName("GetApp").RequireAccess(WorkspaceRole.Viewer);
        apps.MapPut("/{id}", UpdateAsync).WithName("UpdateApp").RequireAccess(WorkspaceRole.Admin).WithSummary("A changed definition: a new version.");
        apps.MapDelete("/{id}", DeleteAsync).WithName("DeleteApp").RequireAccess(WorkspaceRole.Admin);
        apps.MapGet("/{id}/versions", VersionsAsync).WithName("AppVersions").RequireAccess(WorkspaceRole.Viewer);
        apps.MapGet("/{id}/versions/{version:int}", VersionAsync).WithName("AppVersion").RequireAccess(WorkspaceRole.Viewer);
        apps.MapGet("/{id}/diff", DiffAsync).WithName("AppDiff").RequireAccess(WorkspaceRole.Viewer).WithSummary("What changed between two versions, by JSON path.");
        apps.MapPost("/{id}/publish", (string id, PublishRequest? body, HttpContext ctx, AppService service, IAccessStore access, CancellationToken ct) =>
            PublishAsync(id, body?.Version, false, ctx, service, access, ct)).WithName("PublishApp").RequireAccess(WorkspaceRole.Admin);
        apps.MapPost("/{id}/rollback", (string id, PublishRequest? body, HttpContext ctx, AppService service, IAccessStore access, CancellationToken ct) =>
            PublishAsync(id, body?.Version, true, ctx, service, access, ct)).WithName("RollbackApp").RequireAccess(WorkspaceRole.Admin);
        apps.MapGet("/{id}/conversations", ConversationsAsync).WithName("AppConversations").RequireAccess(WorkspaceRole.Viewer);
        apps.MapGet("/{id}/conversations/{cid}", ConversationAsync).WithName("AppConversation").RequireAccess(WorkspaceRole.Viewer);
        apps.MapDelete("/{id}/conversations/{cid}", DeleteConversationAsync).WithName("DeleteAppConversation").RequireAccess(WorkspaceRole.Admin);

        var feedback = Caller.RequireCaller(app.MapGroup("/api/feedback")).WithMetadata(new RequestSizeLimitAttribute(64 * 1024));
        feedback.MapPost("/", GiveFeedbackAsync).WithName("GiveFeedback").RequireAccess(WorkspaceRole.Member).WithSummary("Thumbs up or down, a comment and a corrected answer, by request id.");
        feedback.MapGet("/", ListFeedbackAsync).WithName("ListFeedback").RequireAccess(WorkspaceRole.Viewer).WithSummary("Feedback, newest first; format=json, jsonl or csv.");
        app.MapPost("/v1/feedback", GiveFeedbackOnV1Async).WithName("GiveFeedbackV1")
            .WithSummary("Feedback with a virtual key, for clients that only speak /v1.").WithMetadata(new RequestSizeLimitAttribute(64 * 1024));
        return app;
    }

    public sealed record PublishRequest(int? Version);

    public sealed record AppView(string Id, string Slug, string Name, string Kind, string Workspace, int Version, int? PublishedVersion, string Model,
        DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] JsonNode? Definition)
    {
        public static AppView From(App a, AppDefinition? definition = null) => new(a.Id, a.Slug, a.Name, a.Kind, a.WorkspaceId, a.LatestVersion, a.PublishedVersion,
            Gateway.IAppModels.Prefix + a.Slug, a.CreatedAt, a.UpdatedAt, definition is null ? null : JsonSerializer.SerializeToNode(definition, AppDefinition.Json));
    }

    public sealed record VersionView(int Version, DateTimeOffset CreatedAt, string? Note, bool Published,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] JsonNode? Definition);

    public sealed record ChangeView(string Path, JsonNode? Before, JsonNode? After);

    private static IResult NotFound(string id) => TypedResults.Problem(statusCode: 404, detail: $"No app '{id}'.");

    private static IResult AdminOnly(string what) => TypedResults.Problem(statusCode: 403, detail: $"{what} needs the administrator key.");

    private static IResult Outcome(AppChange change, Func<App, IResult> done) => change switch
    {
        AppChange.Done d => done(d.App),
        AppChange.Invalid i => TypedResults.ValidationProblem(i.Errors),
        AppChange.Missing m => TypedResults.Problem(statusCode: 404, detail: m.Detail, extensions: new Dictionary<string, object?> { ["paths"] = m.Paths }),
        AppChange.Conflict c => TypedResults.Problem(statusCode: 409, detail: c.Detail),
        _ => TypedResults.Problem(statusCode: 500),
    };

    /// <summary>The app the route names, seen by the caller (a key sees only its workspace's). <c>?workspace=</c> picks the
    /// workspace a slug is looked up in for the administrator.</summary>
    private static async Task<App?> FindAsync(string id, HttpContext ctx, AppService service, IAccessStore access, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var workspace = caller.WorkspaceId;
        if (workspace is null && ctx.Request.Query["workspace"].ToString() is { Length: > 0 } named)
        {
            workspace = (await access.FindWorkspaceAsync(named, ct))?.Id ?? "-";
        }
        return await service.FindAsync(id, workspace, ct);
    }

    private static Task<(JsonObject? Body, IResult? Problem)> ReadBodyAsync(HttpRequest request, CancellationToken ct) =>
        JsonBody.ReadObjectAsync(request, ct, "the app definition");

    private static async Task<IResult> CreateAsync(HttpContext ctx, AppService service, IAccessStore access, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        if (!caller.HasRole(WorkspaceRole.Admin))
        {
            return AdminOnly("Creating apps");
        }
        var (body, problem) = await ReadBodyAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var workspaceName = body!["workspace"] is JsonValue w && w.TryGetValue<string>(out var ws) ? ws : body["workspace"] is null ? AccessService.DefaultWorkspaceName : null;
        var errors = new Dictionary<string, string[]>();
        if (workspaceName is null)
        {
            errors.AddError("$.workspace", "must be a workspace name or id");
        }
        var definition = AppDefinitionReader.Read(body, errors, "workspace");
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if ((caller.IsAdmin ? await access.FindWorkspaceAsync(workspaceName!, ct)
                : await caller.OwnWorkspaceAsync(body["workspace"] is null ? null : workspaceName, access, ct)) is not { } workspace)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No workspace '{workspaceName}'.");
        }
        return Outcome(await service.CreateAsync(workspace, definition!, caller.Actor, ct),
            a => TypedResults.Created($"/api/apps/{a.Id}", AppView.From(a, definition)));
    }

    private static async Task<IResult> ListAsync(HttpContext ctx, string? workspace, IAppStore store, IAccessStore access, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var workspaceId = caller.WorkspaceId;
        if (workspaceId is null && workspace is not null)
        {
            var errors = new Dictionary<string, string[]>();
            workspaceId = await access.ResolveAsync(workspace, errors, ct);
            if (errors.Count > 0)
            {
                return TypedResults.ValidationProblem(errors);
            }
        }
        return TypedResults.Ok(new { apps = (await store.ListAsync(workspaceId, ct)).Select(a => AppView.From(a)) });
    }

    private static async Task<IResult> GetAsync(string id, HttpContext ctx, AppService service, IAccessStore access, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, service, access, ct) is not { } app)
        {
            return NotFound(id);
        }
        return TypedResults.Ok(AppView.From(app, await service.DefinitionAsync(app, app.LatestVersion, ct)));
    }

    private static async Task<IResult> UpdateAsync(string id, HttpContext ctx, AppService service, IAccessStore access, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        if (!caller.HasRole(WorkspaceRole.Admin))
        {
            return AdminOnly("Changing apps");
        }
        if (await FindAsync(id, ctx, service, access, ct) is not { } app)
        {
            return NotFound(id);
        }
        var (body, problem) = await ReadBodyAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        var note = body!["note"] is JsonValue n && n.TryGetValue<string>(out var ns) ? ns : null;
        if (body["note"] is not null && (note is null || note.Length > 500))
        {
            errors.AddError("$.note", "must be a string of at most 500 characters");
        }
        var definition = AppDefinitionReader.Read(body, errors, "note", "workspace");
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        return Outcome(await service.UpdateAsync(app, definition!, note, caller.Actor, ct), a => TypedResults.Ok(AppView.From(a, definition)));
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext ctx, AppService service, IAccessStore access, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        if (!caller.HasRole(WorkspaceRole.Admin))
        {
            return AdminOnly("Deleting apps");
        }
        if (await FindAsync(id, ctx, service, access, ct) is not { } app || !await service.DeleteAsync(app, caller.Actor, ct))
        {
            return NotFound(id);
        }
        return TypedResults.NoContent();
    }

    private static async Task<IResult> VersionsAsync(string id, HttpContext ctx, AppService service, IAppStore store, IAccessStore access, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, service, access, ct) is not { } app)
        {
            return NotFound(id);
        }
        return TypedResults.Ok(new
        {
            versions = (await store.VersionsAsync(app.Id, ct)).Select(v => new VersionView(v.Version, v.CreatedAt, v.Note, v.Version == app.PublishedVersion, null)),
        });
    }

    private static async Task<IResult> VersionAsync(string id, int version, HttpContext ctx, AppService service, IAppStore store, IAccessStore access,
        CancellationToken ct)
    {
        if (await FindAsync(id, ctx, service, access, ct) is not { } app)
        {
            return NotFound(id);
        }
        if (await store.VersionAsync(app.Id, version, ct) is not { } v)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"App '{app.Slug}' has no version {version}.");
        }
        return TypedResults.Ok(new VersionView(v.Version, v.CreatedAt, v.Note, v.Version == app.PublishedVersion, JsonNode.Parse(v.Definition)));
    }

    private static async Task<IResult> DiffAsync(string id, string? from, string? to, HttpContext ctx, AppService service, IAccessStore access, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var a = errors.QueryInt("from", from, 1, int.MaxValue);
        var b = errors.QueryInt("to", to, 1, int.MaxValue);
        if (from is null)
        {
            errors.AddError("from", "required: a version number");
        }
        if (to is null)
        {
            errors.AddError("to", "required: a version number");
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (await FindAsync(id, ctx, service, access, ct) is not { } app)
        {
            return NotFound(id);
        }
        var before = await service.DefinitionAsync(app, a!.Value, ct);
        var after = await service.DefinitionAsync(app, b!.Value, ct);
        if (before is null || after is null)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"App '{app.Slug}' has no version {(before is null ? a : b)} (latest: {app.LatestVersion}).");
        }
        return TypedResults.Ok(new { from = a, to = b, changes = AppService.Diff(before, after).Select(c => new ChangeView(c.Path, c.Before, c.After)) });
    }

    private static async Task<IResult> PublishAsync(string id, int? version, bool rollback, HttpContext ctx, AppService service, IAccessStore access,
        CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        if (!caller.HasRole(WorkspaceRole.Admin))
        {
            return AdminOnly(rollback ? "Rolling back apps" : "Publishing apps");
        }
        if (await FindAsync(id, ctx, service, access, ct) is not { } app)
        {
            return NotFound(id);
        }
        if (rollback && version is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["version"] = ["required: the version to publish again"] });
        }
        var errors = new Dictionary<string, string[]>();
        errors.Range("version", version, 1, int.MaxValue);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        return Outcome(await service.PublishAsync(app, version ?? app.LatestVersion, rollback, caller.Actor, ct), a => TypedResults.Ok(AppView.From(a)));
    }

    public sealed record ConversationView(string Id, string User, string Title, int Messages, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        public static ConversationView From(Conversation c) => new(c.Id, c.EndUser, c.Title, c.Messages, c.CreatedAt, c.UpdatedAt);
    }

    private static async Task<IResult> ConversationsAsync(string id, string? user, string? page, string? pageSize, HttpContext ctx, AppService service,
        IAppStore store, IAccessStore access, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var p = errors.QueryInt("page", page, 1, 1_000_000) ?? 1;
        var size = errors.QueryInt("pageSize", pageSize, 1, 200) ?? 50;
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (await FindAsync(id, ctx, service, access, ct) is not { } app)
        {
            return NotFound(id);
        }
        var (items, count) = await store.ConversationsAsync(app.Id, user, p, size, ct);
        return TypedResults.Ok(new { conversations = items.Select(ConversationView.From), page = p, pageSize = size, count });
    }

    private static async Task<Conversation?> FindConversationAsync(string id, string cid, string? user, HttpContext ctx, AppService service, IAppStore store,
        IAccessStore access, CancellationToken ct) =>
        await FindAsync(id, ctx, service, access, ct) is { } app && await store.FindConversationAsync(cid, ct) is { } c && c.AppId == app.Id
            && (user is null || c.EndUser == user)
            ? c
            : null;

    private static async Task<IResult> ConversationAsync(string id, string cid, string? user, HttpContext ctx, AppService service, IAppStore store,
        IAccessStore access, CancellationToken ct)
    {
        if (await FindConversationAsync(id, cid, user, ctx, service, store, access, ct) is not { } c)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No conversation '{cid}' of app '{id}'{(user is null ? "" : $" and user '{user}'")}.");
        }
        var messages = await store.MessagesAsync(c.Id, ct);
        return TypedResults.Ok(new
        {
            id = c.Id, user = c.EndUser, title = c.Title, createdAt = c.CreatedAt, updatedAt = c.UpdatedAt,
            messages = messages.Select(m => new
            {
                role = m.Role, content = m.Content, requestId = m.RequestId, appVersion = m.AppVersion, at = m.At,
                citations = m.Citations is null ? null : JsonNode.Parse(m.Citations),
            }),
        });
    }

    private static async Task<IResult> DeleteConversationAsync(string id, string cid, string? user, HttpContext ctx, AppService service, IAppStore store,
        IAccessStore access, CancellationToken ct)
    {
        if (await FindConversationAsync(id, cid, user, ctx, service, store, access, ct) is not { } c || !await store.DeleteConversationAsync(c.Id, ct))
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No conversation '{cid}' of app '{id}'.");
        }
        return TypedResults.NoContent();
    }

    public sealed record FeedbackRequest(string? RequestId, string? Rating, string? Comment, string? Correction);

    public sealed record FeedbackView(string RequestId, string App, int AppVersion, string User, string Rating, string? Comment, string? Correction,
        string Question, string Answer, DateTimeOffset At)
    {
        public static FeedbackView From(AppFeedback f) => new(f.RequestId, f.AppId, f.AppVersion, f.EndUser, f.Rating, f.Comment, f.Correction, f.Question,
            f.Answer, f.At);
    }

    /// <summary>Checks feedback and finds the answer it is about; the error names the field at fault.</summary>
    private static async Task<(AppFeedback? Feedback, string? Field, string? Error, int Status)> ReadFeedbackAsync(FeedbackRequest? body, string? workspaceId,
        IAppStore store, TimeProvider time, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body?.RequestId) || body.RequestId.Length > 64)
        {
            return (null, "requestId", "required: the x-mulan-request-id of the app's answer", 400);
        }
        if (body.Rating is not ("up" or "down"))
        {
            return (null, "rating", "must be up or down", 400);
        }
        if (body.Comment is { Length: > 4000 } || body.Correction is { Length: > 20_000 })
        {
            return (null, body.Comment is { Length: > 4000 } ? "comment" : "correction", "too long (comment: 4,000 characters, correction: 20,000)", 400);
        }
        var answer = await store.FindAnswerAsync(body.RequestId, ct);
        if (answer is null || (workspaceId is not null && answer.WorkspaceId != workspaceId))
        {
            return (null, "requestId", $"no app answer with request id '{body.RequestId}'", 404);
        }
        return (new AppFeedback(answer.RequestId, answer.AppId, answer.AppVersion, answer.WorkspaceId, answer.EndUser, body.Rating,
            string.IsNullOrWhiteSpace(body.Comment) ? null : body.Comment, string.IsNullOrWhiteSpace(body.Correction) ? null : body.Correction,
            answer.Question, answer.Answer, time.GetUtcNow()), null, null, 200);
    }

    private static async Task<IResult> GiveFeedbackAsync(FeedbackRequest? body, HttpContext ctx, IAppStore store, TimeProvider time, CancellationToken ct)
    {
        var (feedback, field, error, status) = await ReadFeedbackAsync(body, Caller.Of(ctx).WorkspaceId, store, time, ct);
        if (feedback is null)
        {
            return status == 404
                ? TypedResults.Problem(statusCode: 404, detail: error)
                : TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field!] = [error!] });
        }
        await store.SaveFeedbackAsync(feedback, ct);
        return TypedResults.Ok(FeedbackView.From(feedback));
    }

    private static async Task GiveFeedbackOnV1Async(HttpContext ctx, AccessService access, IAppStore store, TimeProvider time)
    {
        ctx.Response.Headers[GatewayProxy.RequestIdHeader] = KeyMaterial.NewId("req");
        if (access.Authenticate(BearerToken.Of(ctx.Request)) is not { } key)
        {
            await OpenAIError.InvalidKey().WriteAsync(ctx.Response);
            return;
        }
        FeedbackRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<FeedbackRequest>(ctx.Request.Body, new JsonSerializerOptions(JsonSerializerDefaults.Web), ctx.RequestAborted);
        }
        catch (JsonException e)
        {
            await OpenAIError.BadRequest($"We could not parse the JSON body of your request: {e.Message}", code: "invalid_json").WriteAsync(ctx.Response);
            return;
        }
        var (feedback, field, error, status) = await ReadFeedbackAsync(body, key.WorkspaceId, store, time, ctx.RequestAborted);
        if (feedback is null)
        {
            await new OpenAIError(status, $"'{field}': {error}", "invalid_request_error", field, status == 404 ? "answer_not_found" : null).WriteAsync(ctx.Response);
            return;
        }
        await store.SaveFeedbackAsync(feedback, ctx.RequestAborted);
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(JsonSerializer.Serialize(FeedbackView.From(feedback), new JsonSerializerOptions(JsonSerializerDefaults.Web)), ctx.RequestAborted);
    }

    private static async Task<IResult> ListFeedbackAsync(HttpContext ctx, string? app, string? rating, string? format, string? limit, AppService service,
        IAppStore store, IAccessStore access, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var max = errors.QueryInt("limit", limit, 1, 100_000) ?? 1000;
        if (rating is not (null or "up" or "down"))
        {
            errors.AddError("rating", "must be up or down");
        }
        if (format is not (null or "json" or "jsonl" or "csv"))
        {
            errors.AddError("format", "must be json, jsonl or csv");
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var caller = Caller.Of(ctx);
        string? appId = null;
        if (app is not null)
        {
            if (await FindAsync(app, ctx, service, access, ct) is not { } found)
            {
                return NotFound(app);
            }
            appId = found.Id;
        }
        var items = (await store.FeedbackAsync(caller.WorkspaceId, appId, rating, max, ct)).Select(FeedbackView.From).ToList();
        var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        return format switch
        {
            "jsonl" => Results.Text(string.Concat(items.Select(i => JsonSerializer.Serialize(i, web) + "\n")), "application/x-ndjson", Encoding.UTF8),
            "csv" => Results.Text(Csv(items), "text/csv", Encoding.UTF8),
            _ => TypedResults.Ok(new { feedback = items }),
        };
    }

    private static string Csv(IReadOnlyList<FeedbackView> items)
    {
        var csv = new StringBuilder("requestId,app,appVersion,user,rating,comment,correction,question,answer,at\n");
        foreach (var i in items)
        {
            csv.AppendJoin(',', [CsvCell.Of(i.RequestId), CsvCell.Of(i.App), i.AppVersion.ToString(CultureInfo.InvariantCulture), CsvCell.Of(i.User), i.Rating,
                CsvCell.Of(i.Comment), CsvCell.Of(i.Correction), CsvCell.Of(i.Question), CsvCell.Of(i.Answer), i.At.ToString("O", CultureInfo.InvariantCulture)]).Append('\n');
        }
        return csv.ToString();
    }
}
