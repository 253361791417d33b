using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Mulan.Access;
using Mulan.Apps;
using Mulan.Apps.Runtime;
using Mulan.Hosting.Problems;
using Mulan.Knowledge;

namespace Mulan.Assistant.Runs;

/// <summary>
/// <c>POST /api/apps/{id}/runs</c> and <c>/api/runs</c>: start, read, follow (SSE), approve, reject and cancel assistant
/// runs. The administrator sees every workspace; a virtual key sees its own workspace's runs (any other id is 404) and
/// its runs are charged to it. Approving or rejecting a side-effecting call needs the administrator key: a key that can
/// start a run must not be able to wave its own calls through.
/// </summary>
public static class RunEndpoints
{
    public const int MaxListLimit = 200;

    public static IEndpointRouteBuilder MapRuns(this IEndpointRouteBuilder app)
    {
        var apps = Caller.RequireCaller(app.MapGroup("/api/apps")).WithMetadata(new RequestSizeLimitAttribute(256 * 1024));
        apps.MapPost("/{id}/runs", StartAsync).WithName("StartRun").RequireAccess(WorkspaceRole.Member).WithSummary("Start a run of a published assistant app: 202 with the run.");
        apps.MapGet("/{id}/runs", (string id, HttpContext ctx, string? status, int? limit, AppService service, IRunStore store, CancellationToken ct) =>
            ListAsync(id, ctx, status, limit, service, store, ct)).WithName("AppRuns").RequireAccess(WorkspaceRole.Viewer);

        var runs = Caller.RequireCaller(app.MapGroup("/api/runs")).WithMetadata(new RequestSizeLimitAttribute(256 * 1024));
        runs.MapGet("/", (HttpContext ctx, string? app, string? status, int? limit, AppService service, IRunStore store, CancellationToken ct) =>
            ListAsync(app, ctx, status, limit, service, store, ct)).WithName("ListRuns").RequireAccess(WorkspaceRole.Viewer);
        runs.MapGet("/{id}", GetAsync).WithName("GetRun").RequireAccess(WorkspaceRole.Viewer).WithSummary("A run with its status, step trace, output and cost.");
        runs.MapGet("/{id}/events", EventsAsync).WithName("RunEvents").RequireAccess(WorkspaceRole.Viewer).WithSummary("The run's steps and status changes as server-sent events.");
        runs.MapPost("/{id}/approve", ApproveAsync).WithName("ApproveRun").RequireAccess(WorkspaceRole.Admin).WithSummary("Run the pending call, optionally with edited arguments.");
        runs.MapPost("/{id}/reject", RejectAsync).WithName("RejectRun").RequireAccess(WorkspaceRole.Admin);
        runs.MapPost("/{id}/cancel", CancelAsync).WithName("CancelRun").RequireAccess(WorkspaceRole.Admin);
        return app;
    }

    private static IResult NotFound(string id) => TypedResults.Problem(statusCode: 404, detail: $"No run '{id}'.");

    private static IResult Conflict(RunConflictException e) =>
        TypedResults.Problem(statusCode: 409, detail: e.Message, extensions: new Dictionary<string, object?> { ["code"] = e.Code });

    private static async Task<Run?> FindAsync(string id, HttpContext ctx, IRunStore store, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var run = await store.FindAsync(id, ct);
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

    private static async Task<IResult> StartAsync(string id, HttpContext ctx, AppService service, AppDirectory directory, RunService runs, AccessService access,
        CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        OnlyProperties(body!, errors, "input", "user", "inputs");
        var input = body!["input"] is JsonValue iv && iv.TryGetValue<string>(out var s) ? s : null;
        if (input is null || input.Trim().Length == 0)
        {
            errors.AddError("$.input", "required: what the assistant is asked to do");
        }
        else if (input.Length > RunService.MaxInputLength)
        {
            errors.AddError("$.input", $"at most {RunService.MaxInputLength} characters");
        }
        var user = body["user"] is JsonValue uv && uv.TryGetValue<string>(out var u) ? u : null;
        if (body["user"] is not null && (user is null || user.Length > 128))
        {
            errors.AddError("$.user", "must be a string of at most 128 characters");
        }
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (body["inputs"] is JsonObject given)
        {
            foreach (var (name, value) in given)
            {
                if (value is JsonValue v && v.TryGetValue<string>(out var text) && text.Length <= AppTurn.MaxInputLength)
                {
                    inputs[name] = text;
                }
                else
                {
                    errors.AddError($"$.inputs.{name}", $"must be a string of at most {AppTurn.MaxInputLength} characters");
                }
            }
        }
        else if (body["inputs"] is not null)
        {
            errors.AddError("$.inputs", "must be an object of variable values");
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (await service.FindAsync(id, caller.WorkspaceId, ct) is not { } app)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No app '{id}'.");
        }
        if (app.Kind != AppKinds.Assistant)
        {
            return TypedResults.Problem(statusCode: 400, detail: $"App '{app.Slug}' is a {app.Kind} app; runs are for assistant apps.",
                extensions: new Dictionary<string, object?> { ["code"] = "app_kind_not_assistant" });
        }
        if (directory.Find(app.WorkspaceId, app.Slug) is not { } published)
        {
            return TypedResults.Problem(statusCode: 409, detail: $"App '{app.Slug}' has no published version.",
                extensions: new Dictionary<string, object?> { ["code"] = "app_not_published" });
        }
        VirtualKey key;
        if (caller.Kind != CallerKind.VirtualKey)
        {
            // Administrators and users start runs on the workspace's assistant service key.
            key = runs.ServiceKey(app.WorkspaceId);
        }
        else if (access.Authenticate(Access.BearerToken.Of(ctx.Request)) is { } own)
        {
            if (!own.AllowsModel(published.ModelName))
            {
                return TypedResults.Problem(statusCode: 403, detail: $"This key may not use '{published.ModelName}' (its models allowlist).",
                    extensions: new Dictionary<string, object?> { ["code"] = "model_not_allowed" });
            }
            key = own;
        }
        else
        {
            return TypedResults.Problem(statusCode: 401, detail: "The key is not valid any more.");
        }
        if (inputs.Keys.FirstOrDefault(n => published.Definition.Variables?.Any(v => v.Name == n) != true && !AppPrompt.BuiltInVariables.Contains(n)) is { } unknown)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [$"$.inputs.{unknown}"] = ["the app declares no such variable"] });
        }
        var run = await runs.CreateAsync(published, key, RunOrigins.Api, input!, null, user, null, null, ct, inputs);
        runs.StartInBackground(run.Id);
        return TypedResults.Json(RunView.Of(run, null, null), statusCode: 202);
    }

    private static async Task<IResult> ListAsync(string? app, HttpContext ctx, string? status, int? limit, AppService service, IRunStore store, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var errors = new Dictionary<string, string[]>();
        errors.Range("limit", limit, 1, MaxListLimit);
        if (status is not null && !RunStatuses.All.Contains(status))
        {
            errors.AddError("status", $"one of {string.Join(", ", RunStatuses.All)}");
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        string? appId = null;
        if (app is not null)
        {
            if (await service.FindAsync(app, caller.WorkspaceId, ct) is not { } found)
            {
                return TypedResults.Problem(statusCode: 404, detail: $"No app '{app}'.");
            }
            appId = found.Id;
        }
        var list = await store.ListAsync(new RunQuery(caller.WorkspaceId, appId, status, limit ?? 50), ct);
        return TypedResults.Ok(new { runs = list.Select(r => RunView.Of(r, null, null)) });
    }

    private static async Task<IResult> GetAsync(string id, HttpContext ctx, IRunStore store, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } run)
        {
            return NotFound(id);
        }
        return TypedResults.Ok(RunView.Of(run, await store.StepsAsync(id, ct), await store.StateAsync(id, ct, conversation: false)));
    }

    private static Task<IResult> ApproveAsync(string id, HttpContext ctx, IRunStore store, RunService runs, CancellationToken ct) =>
        DecideAsync(id, ctx, store, "Approving", "arguments", ct, async (run, body, errors, actor) =>
        {
            if (body["arguments"] is { } a && a is not JsonObject)
            {
                errors.AddError("$.arguments", "must be a JSON object: the call's arguments as they should run");
                return null;
            }
            try
            {
                return await runs.ApproveAsync(run, (JsonObject?)body["arguments"]?.DeepClone(), actor, ct);
            }
            catch (ArgumentException e)
            {
                errors.AddError("$.arguments", e.Message);
                return null;
            }
        });

    private static Task<IResult> RejectAsync(string id, HttpContext ctx, IRunStore store, RunService runs, CancellationToken ct) =>
        DecideAsync(id, ctx, store, "Rejecting", "reason", ct, async (run, body, errors, actor) =>
        {
            var reason = body["reason"] is JsonValue rv && rv.TryGetValue<string>(out var r) ? r : null;
            if (body["reason"] is not null && (reason is null || reason.Length > 1000))
            {
                errors.AddError("$.reason", "must be a string of at most 1000 characters");
                return null;
            }
            return await runs.RejectAsync(run, reason, actor, ct);
        });

    /// <summary>What approving and rejecting share: the run seen by the caller, the administrator key, a body with the one
    /// property <paramref name="property"/>; <paramref name="decide"/> adds to the errors (then returns null) or decides.</summary>
    private static async Task<IResult> DecideAsync(string id, HttpContext ctx, IRunStore store, string what, string property, CancellationToken ct,
        Func<Run, JsonObject, Dictionary<string, string[]>, string, Task<Run?>> decide)
    {
        var caller = Caller.Of(ctx);
        if (await FindAsync(id, ctx, store, ct) is not { } run)
        {
            return NotFound(id);
        }
        if (!caller.HasRole(WorkspaceRole.Admin))
        {
            return TypedResults.Problem(statusCode: 403, detail: $"{what} a run's call needs the administrator key or a workspace admin.");
        }
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct, optional: true);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        OnlyProperties(body!, errors, property);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        try
        {
            var decided = await decide(run, body!, errors, caller.Actor);
            return decided is null ? TypedResults.ValidationProblem(errors) : TypedResults.Ok(RunView.Of(decided, await store.StepsAsync(id, ct), null));
        }
        catch (RunConflictException e)
        {
            return Conflict(e);
        }
    }

    private static async Task<IResult> CancelAsync(string id, HttpContext ctx, IRunStore store, RunService runs, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        if (await FindAsync(id, ctx, store, ct) is not { } run)
        {
            return NotFound(id);
        }
        try
        {
            var cancelled = await runs.CancelAsync(run, caller.Actor, ct);
            return TypedResults.Ok(RunView.Of(cancelled, await store.StepsAsync(id, ct), null));
        }
        catch (RunConflictException e)
        {
            return Conflict(e);
        }
    }

    /// <summary>SSE: every stored step (so a late subscriber misses nothing), then live steps and status changes, until
    /// the run ends (<c>event: done</c>). A run waiting for approval keeps the stream open; a comment line every 15 s
    /// keeps proxies from closing it.</summary>
    private static async Task EventsAsync(string id, HttpContext ctx, IRunStore store, RunEvents events, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is null)
        {
            await NotFound(id).ExecuteAsync(ctx);
            return;
        }
        using var subscription = events.Subscribe(id);
        var run = (await store.FindAsync(id, ct))!;
        var response = ctx.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        ctx.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var sent = 0;
        foreach (var step in await store.StepsAsync(id, ct))
        {
            await SendAsync(response, "step", step.Seq.ToString(CultureInfo.InvariantCulture), StepView.Of(step), ct);
            sent = step.Seq;
        }
        await SendAsync(response, "status", null, RunView.Of(run, null, null), ct);
        if (RunStatuses.IsTerminal(run.Status))
        {
            await SendAsync(response, "done", null, RunView.Of(run, null, null), ct);
            return;
        }
        try
        {
            while (true)
            {
                using var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(ct);
                heartbeat.CancelAfter(TimeSpan.FromSeconds(15));
                RunEvent e;
                try
                {
                    e = await subscription.Reader.ReadAsync(heartbeat.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    continue;
                }
                if (e.Step is { } step)
                {
                    if (step.Seq <= sent)
                    {
                        continue;
                    }
                    await SendAsync(response, "step", step.Seq.ToString(CultureInfo.InvariantCulture), StepView.Of(step), ct);
                    sent = step.Seq;
                    continue;
                }
                await SendAsync(response, "status", null, RunView.Of(e.Run, null, null), ct);
                if (RunStatuses.IsTerminal(e.Run.Status))
                {
                    await SendAsync(response, "done", null, RunView.Of(e.Run, null, null), ct);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client left.
        }
    }

    private static async Task SendAsync(HttpResponse response, string type, string? id, object data, CancellationToken ct)
    {
        var text = (id is null ? "" : $"id: {id}\n") + $"event: {type}\ndata: {JsonSerializer.Serialize(data, RunView.Json)}\n\n";
        await response.WriteAsync(text, ct);
        await response.Body.FlushAsync(ct);
    }
}

public sealed record MoneyView(decimal Amount, string? Currency);

public sealed record StepView(int Seq, string Kind, string? Name, string Status, JsonNode? Input, JsonNode? Output, string? Error, long DurationMs,
    MoneyView Cost, string? RequestId, DateTimeOffset At)
{
    public static StepView Of(RunStep s) => new(s.Seq, s.Kind, s.Name, s.Status, AsJson(s.Input), AsJson(s.Output), s.Error, s.DurationMs,
        new MoneyView(s.Cost, null), s.RequestId, s.At);

    /// <summary>Stored JSON (arguments, messages) is shown as JSON; anything else as the text it is.</summary>
    internal static JsonNode? AsJson(string? text)
    {
        if (text is null)
        {
            return null;
        }
        if (text.Length > 0 && text[0] is '{' or '[')
        {
            try
            {
                return JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                // shown as text
            }
        }
        return JsonValue.Create(text);
    }
}

public sealed record PendingView(string Tool, string Source, JsonObject Arguments, bool SideEffect, DateTimeOffset ExpiresAt);

public sealed record RunView(string Id, string App, int AppVersion, string Workspace, string Key, string Origin, string? Schedule, string Status, string Input,
    string? Output, string? Error, object Usage, MoneyView Cost, int StepCount, IReadOnlyList<StepView>? Steps, PendingView? PendingApproval,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? EndedAt)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static RunView Of(Run r, IReadOnlyList<RunStep>? steps, RunState? state) => new(r.Id, r.AppId, r.AppVersion, r.WorkspaceId, r.KeyId, r.Origin,
        r.Schedule, r.Status, r.Input, r.Output, r.Error, new { promptTokens = r.PromptTokens, completionTokens = r.CompletionTokens },
        new MoneyView(r.Cost, r.Currency), r.Steps, steps?.Select(s => StepView.Of(s) with { Cost = new MoneyView(s.Cost, r.Currency) }).ToList(),
        state?.Pending is { } p && r.Status == RunStatuses.AwaitingApproval ? new PendingView(p.Tool, p.Source, p.Arguments, true, p.ExpiresAt) : null,
        r.CreatedAt, r.UpdatedAt, r.EndedAt);
}
