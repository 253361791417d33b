using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Mulan.Access;
using Mulan.Apps;
using Mulan.Audit;
using Mulan.Hosting.Problems;
using Mulan.Knowledge;

namespace Mulan.Pilots;

/// <summary>
/// <c>/api/pilots</c>: pilots, their scope and change control, effort, ledger, report and sign-off. The administrator
/// sees every workspace; a virtual key sees its own workspace's pilots (any other id is 404). Once the scope is frozen,
/// it changes only through approved change requests; every decision is audited.
/// </summary>
public static class PilotEndpoints
{
    public static class Actions
    {
        public const string Created = "pilot.created";
        public const string Updated = "pilot.updated";
        public const string ScopeChanged = "pilot.scope_changed";
        public const string Frozen = "pilot.frozen";
        public const string ChangeRequested = "pilot.change_requested";
        public const string ChangeApproved = "pilot.change_approved";
        public const string ChangeRejected = "pilot.change_rejected";
        public const string EffortLogged = "pilot.effort_logged";
        public const string SignedOff = "pilot.signed_off";
        public const string BakeoffAdded = "pilot.bakeoff_added";
        public const string BakeoffDeleted = "pilot.bakeoff_deleted";
    }

    public static IEndpointRouteBuilder MapPilots(this IEndpointRouteBuilder app)
    {
        var g = Caller.RequireCaller(app.MapGroup("/api/pilots")).WithMetadata(new RequestSizeLimitAttribute(256 * 1024));
        g.MapPost("/", CreateAsync).WithName("CreatePilot").RequireAccess(WorkspaceRole.Admin).WithSummary("Create a pilot: customer, contract value, period, budget, keys, alerts.");
        g.MapGet("/", ListAsync).WithName("ListPilots").RequireAccess(WorkspaceRole.Viewer);
        g.MapGet("/{id}", GetAsync).WithName("GetPilot").RequireAccess(WorkspaceRole.Viewer);
        g.MapMethods("/{id}", ["PATCH"], PatchAsync).WithName("UpdatePilot").RequireAccess(WorkspaceRole.Admin).WithSummary("Change status, dates or budget.");
        g.MapPost("/{id}/scope", (string id, HttpContext ctx, IPilotStore store, PilotService svc, AppService apps, AuditLog audit, CancellationToken ct) =>
            PutScopeAsync(id, null, ctx, store, svc, apps, audit, ct)).WithName("AddPilotScope").RequireAccess(WorkspaceRole.Admin);
        g.MapPut("/{id}/scope/{itemId}", (string id, string itemId, HttpContext ctx, IPilotStore store, PilotService svc, AppService apps, AuditLog audit,
            CancellationToken ct) => PutScopeAsync(id, itemId, ctx, store, svc, apps, audit, ct)).WithName("ChangePilotScope").RequireAccess(WorkspaceRole.Admin);
        g.MapDelete("/{id}/scope/{itemId}", DeleteScopeAsync).WithName("DeletePilotScope").RequireAccess(WorkspaceRole.Admin);
        g.MapPost("/{id}/freeze", FreezeAsync).WithName("FreezePilotScope").RequireAccess(WorkspaceRole.Admin).WithSummary("Freeze the scope baseline; later changes need change requests.");
        g.MapPost("/{id}/changes", RequestChangeAsync).WithName("RequestPilotChange").RequireAccess(WorkspaceRole.Member);
        g.MapGet("/{id}/changes", ChangesAsync).WithName("ListPilotChanges").RequireAccess(WorkspaceRole.Viewer);
        g.MapPost("/{id}/changes/{cid}/approve", (string id, string cid, HttpContext ctx, IPilotStore store, AuditLog audit, TimeProvider time, CancellationToken ct) =>
            DecideAsync(id, cid, ChangeStatuses.Approved, ctx, store, audit, time, ct)).WithName("ApprovePilotChange").RequireAccess(WorkspaceRole.Admin);
        g.MapPost("/{id}/changes/{cid}/reject", (string id, string cid, HttpContext ctx, IPilotStore store, AuditLog audit, TimeProvider time, CancellationToken ct) =>
            DecideAsync(id, cid, ChangeStatuses.Rejected, ctx, store, audit, time, ct)).WithName("RejectPilotChange").RequireAccess(WorkspaceRole.Admin);
        g.MapPost("/{id}/effort", EffortAsync).WithName("LogPilotEffort").RequireAccess(WorkspaceRole.Member);
        g.MapGet("/{id}/ledger", LedgerAsync).WithName("PilotLedger").RequireAccess(WorkspaceRole.Viewer).WithSummary("Effort and spend against contract value and budget.");
        g.MapGet("/{id}/report", ReportAsync).WithName("PilotReport").RequireAccess(WorkspaceRole.Viewer).WithSummary("The pilot report as html, md or json in zh-Hans, zh-Hant or en.");
        g.MapPost("/{id}/signoff", SignoffAsync).WithName("SignOffPilot").RequireAccess(WorkspaceRole.Admin);
        g.MapGet("/{id}/signoff", SignoffsAsync).WithName("PilotSignoffs").RequireAccess(WorkspaceRole.Viewer);
        g.MapPilotBakeoffs();
        return app;
    }

    internal static IResult NotFound(string id) => TypedResults.Problem(statusCode: 404, detail: $"No pilot '{id}'.");

    private static IResult Conflict(string detail, string code) =>
        TypedResults.Problem(statusCode: 409, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = code });

    internal static async Task<Pilot?> FindAsync(string id, HttpContext ctx, IPilotStore store, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var pilot = await store.FindAsync(id, ct);
        return pilot is null || (caller.WorkspaceId is { } ws && pilot.WorkspaceId != ws) ? null : pilot;
    }

    public static object View(Pilot p) => new
    {
        p.Id, workspace = p.WorkspaceId, p.Name, p.Customer, p.Vendor, p.ContractValue, start = p.Start.ToString("yyyy-MM-dd"), end = p.End.ToString("yyyy-MM-dd"),
        p.Budget, p.Keys, alerts = new { thresholds = p.Alerts.Thresholds, webhook = p.Alerts.WebhookUrl is { } u ? new { url = u } : null },
        p.Status, p.CreatedAt, frozen = p.FrozenAt is not null, p.FrozenAt,
    };

    private static async Task<IResult> CreateAsync(HttpContext ctx, IPilotStore store, IAccessStore access, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        PilotInput.Only(body!, errors, "$", "name", "customer", "vendor", "contractValue", "start", "end", "budget", "keys", "alerts", "workspace", "status");
        var name = PilotInput.Text(body!, "name", "$", errors, true);
        var customer = PilotInput.Text(body!, "customer", "$", errors, true);
        var vendor = PilotInput.Text(body!, "vendor", "$", errors, false);
        var contract = PilotInput.Amount(body!, "contractValue", "$", errors, true);
        var start = PilotInput.Date(body!, "start", "$", errors, true);
        var end = PilotInput.Date(body!, "end", "$", errors, true);
        var budget = PilotInput.Amount(body!, "budget", "$", errors, false);
        var keys = PilotInput.Strings(body!, "keys", "$", errors, PilotInput.MaxKeys) ?? [];
        var alerts = PilotInput.Alerts(body!, "$", errors) ?? new AlertSettings([], null);
        var status = PilotInput.OneOf(body!, "status", "$", errors, PilotStatuses.All, false) ?? PilotStatuses.Planned;
        var workspaceName = PilotInput.Text(body!, "workspace", "$", errors, false);
        if (start is { } s && end is { } e && e < s)
        {
            errors.AddError("$.end", "must not be before start");
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        string workspaceId;
        if (caller.WorkspaceId is { } own)
        {
            workspaceId = own;
        }
        else if (await access.FindWorkspaceAsync(workspaceName ?? AccessService.DefaultWorkspaceName, ct) is { } ws)
        {
            workspaceId = ws.Id;
        }
        else
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No workspace '{workspaceName}'.");
        }
        if (await KeysErrorsAsync(keys, workspaceId, access, ct) is { Count: > 0 } keyErrors)
        {
            return TypedResults.ValidationProblem(keyErrors);
        }
        var pilot = new Pilot(KeyMaterial.NewId("pilot"), workspaceId, name!, customer!, vendor, contract!, start!.Value, end!.Value, budget, keys, alerts, status,
            time.GetUtcNow(), null, null);
        await store.CreateAsync(pilot, ct);
        await audit.RecordAsync(new AuditEntry(caller.Actor, Actions.Created, "pilot", pilot.Id, workspaceId,
            new JsonObject { ["name"] = pilot.Name, ["customer"] = pilot.Customer }));
        return TypedResults.Json(View(pilot), statusCode: 201);
    }

    private static async Task<Dictionary<string, string[]>> KeysErrorsAsync(IReadOnlyList<string> keys, string workspaceId, IAccessStore access, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < keys.Count; i++)
        {
            if (await access.FindKeyAsync(keys[i], ct) is not { } key || key.WorkspaceId != workspaceId)
            {
                errors.AddError($"$.keys[{i}]", "no key with this id in the pilot's workspace");
            }
        }
        return errors;
    }

    private static async Task<IResult> ListAsync(HttpContext ctx, IPilotStore store, CancellationToken ct) =>
        TypedResults.Ok(new { pilots = (await store.ListAsync(Caller.Of(ctx).WorkspaceId, ct)).Select(View) });

    private static async Task<IResult> GetAsync(string id, HttpContext ctx, IPilotStore store, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return NotFound(id);
        }
        var scope = await store.ScopeAsync(id, ct);
        var view = (object)View(pilot);
        return TypedResults.Ok(new { pilot = view, scope, baseline = pilot.Baseline });
    }

    private static async Task<IResult> PatchAsync(string id, HttpContext ctx, IPilotStore store, IAccessStore access, AuditLog audit, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return NotFound(id);
        }
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        PilotInput.Only(body!, errors, "$", "status", "start", "end", "budget", "name", "alerts", "keys");
        var status = PilotInput.OneOf(body!, "status", "$", errors, PilotStatuses.All, false);
        var start = PilotInput.Date(body!, "start", "$", errors, false);
        var end = PilotInput.Date(body!, "end", "$", errors, false);
        var budget = PilotInput.Amount(body!, "budget", "$", errors, false);
        var name = PilotInput.Text(body!, "name", "$", errors, false);
        var alerts = PilotInput.Alerts(body!, "$", errors);
        var keys = PilotInput.Strings(body!, "keys", "$", errors, PilotInput.MaxKeys);
        if ((end ?? pilot.End) < (start ?? pilot.Start))
        {
            errors.AddError(end is null ? "$.start" : "$.end", "end must not be before start");
        }
        if (keys is not null)
        {
            foreach (var (k, v) in await KeysErrorsAsync(keys, pilot.WorkspaceId, access, ct))
            {
                errors[k] = v;
            }
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var updated = pilot with
        {
            Status = status ?? pilot.Status, Start = start ?? pilot.Start, End = end ?? pilot.End, Budget = budget ?? pilot.Budget, Name = name ?? pilot.Name,
            Alerts = alerts ?? pilot.Alerts, Keys = keys ?? pilot.Keys,
        };
        await store.UpdateAsync(updated, ct);
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, Actions.Updated, "pilot", id, pilot.WorkspaceId,
            new JsonObject { ["fields"] = new JsonArray([.. body!.Select(p => (JsonNode)p.Key)]) }));
        return TypedResults.Ok(View(updated));
    }

    /// <summary>Resolves the item's app within the pilot's workspace and checks criteria's sets when evaluations exist.</summary>
    private static async Task<ScopeItem?> ResolveAsync(ScopeItem item, Pilot pilot, string path, Dictionary<string, string[]> errors, AppService apps,
        PilotService svc, CancellationToken ct)
    {
        var resolved = item;
        if (item.App is { } a)
        {
            if (await apps.FindAsync(a, pilot.WorkspaceId, ct) is { } app)
            {
                resolved = item with { App = app.Id };
            }
            else
            {
                errors.AddError($"{path}.app", "no app with this id or slug in the pilot's workspace");
            }
        }
        if (svc.Evaluations is { } evaluations)
        {
            for (var i = 0; i < item.Criteria.Count; i++)
            {
                if (!await evaluations.SetExistsAsync(pilot.WorkspaceId, item.Criteria[i].Set, ct))
                {
                    errors.AddError($"{path}.criteria[{i}].set", "no evaluation set with this id in the pilot's workspace");
                }
            }
        }
        return errors.Count == 0 ? resolved : null;
    }

    private static IResult FrozenConflict(Pilot pilot) => Conflict(
        $"The scope of pilot '{pilot.Id}' was frozen at {pilot.FrozenAt:O}: request the change with POST /api/pilots/{pilot.Id}/changes.", "scope_frozen");

    private static async Task<IResult> PutScopeAsync(string id, string? itemId, HttpContext ctx, IPilotStore store, PilotService svc, AppService apps, AuditLog audit,
        CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return NotFound(id);
        }
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (pilot.FrozenAt is not null)
        {
            return FrozenConflict(pilot);
        }
        if (itemId is not null && !(await store.ScopeAsync(id, ct)).Any(s => s.Id == itemId))
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No scope item '{itemId}' in pilot '{id}'.");
        }
        var errors = new Dictionary<string, string[]>();
        var item = PilotInput.Scope(body!, "$", itemId ?? KeyMaterial.NewId("scope"), errors);
        if (item is not null && errors.Count == 0)
        {
            item = await ResolveAsync(item, pilot, "$", errors, apps, svc, ct);
        }
        if (errors.Count > 0 || item is null)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (!await store.PutScopeUnfrozenAsync(id, item, ct))
        {
            return FrozenConflict((await store.FindAsync(id, ct))!);
        }
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, Actions.ScopeChanged, "pilot", id, pilot.WorkspaceId,
            new JsonObject { ["item"] = item.Id, ["op"] = itemId is null ? "add" : "change" }));
        return itemId is null ? TypedResults.Json(item, statusCode: 201) : TypedResults.Ok(item);
    }

    private static async Task<IResult> DeleteScopeAsync(string id, string itemId, HttpContext ctx, IPilotStore store, AuditLog audit, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return NotFound(id);
        }
        switch (await store.DeleteScopeUnfrozenAsync(id, itemId, ct))
        {
            case null:
                return FrozenConflict((await store.FindAsync(id, ct))!);
            case false:
                return TypedResults.Problem(statusCode: 404, detail: $"No scope item '{itemId}' in pilot '{id}'.");
        }
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, Actions.ScopeChanged, "pilot", id, pilot.WorkspaceId,
            new JsonObject { ["item"] = itemId, ["op"] = "remove" }));
        return TypedResults.NoContent();
    }

    private static async Task<IResult> FreezeAsync(string id, HttpContext ctx, IPilotStore store, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return NotFound(id);
        }
        if (pilot.FrozenAt is not null)
        {
            return Conflict($"The scope of pilot '{id}' is frozen already (at {pilot.FrozenAt:O}).", "scope_frozen");
        }
        var scope = await store.ScopeAsync(id, ct);
        var frozen = pilot with { FrozenAt = time.GetUtcNow(), Baseline = scope };
        if (!await store.FreezeAsync(frozen, ct))
        {
            return Conflict($"The scope of pilot '{id}' is frozen already.", "scope_frozen");
        }
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, Actions.Frozen, "pilot", id, pilot.WorkspaceId,
            new JsonObject { ["items"] = scope.Count }));
        return TypedResults.Ok(new { pilot = View(frozen), baseline = scope });
    }

    private static async Task<IResult> RequestChangeAsync(string id, HttpContext ctx, IPilotStore store, PilotService svc, AppService apps, AuditLog audit,
        TimeProvider time, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return NotFound(id);
        }
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        PilotInput.Only(body!, errors, "$", "kind", "item", "scope", "impact", "reason");
        var kind = PilotInput.OneOf(body!, "kind", "$", errors, ChangeKinds.All, true);
        var itemId = PilotInput.Text(body!, "item", "$", errors, kind is "change" or "remove");
        var reason = PilotInput.Text(body!, "reason", "$", errors, true, PilotInput.MaxDescription);
        var scope = await store.ScopeAsync(id, ct);
        if (kind == "add" && itemId is not null)
        {
            errors.AddError("$.item", "an added item gets a new id: leave item out");
        }
        else if (itemId is not null && !scope.Any(s => s.Id == itemId))
        {
            errors.AddError("$.item", "no such item in the pilot's current scope");
        }
        ScopeItem? item = null;
        if (kind is "add" or "change")
        {
            if (body!["scope"] is JsonObject so)
            {
                item = PilotInput.Scope(so, "$.scope", itemId ?? KeyMaterial.NewId("scope"), errors);
            }
            else
            {
                errors.AddError("$.scope", "required: the item as it should be {title, priority, ...}");
            }
        }
        else if (kind == "remove" && body!["scope"] is not null)
        {
            errors.AddError("$.scope", "a removal carries no scope");
        }
        Impact? impact = null;
        if (body!["impact"] is JsonObject io)
        {
            PilotInput.Only(io, errors, "$.impact", "effortDays", "cost", "scheduleDays");
            var days = PilotInput.Number(io, "effortDays", "$.impact", errors, true, 0, 100_000);
            var cost = PilotInput.Amount(io, "cost", "$.impact", errors, true);
            var schedule = PilotInput.Number(io, "scheduleDays", "$.impact", errors, true, -3650, 3650);
            if (schedule is { } sd && sd != decimal.Truncate(sd))
            {
                errors.AddError("$.impact.scheduleDays", "must be a whole number of days");
            }
            if (days is { } d && cost is not null && schedule is { } s)
            {
                impact = new Impact(d, cost, (int)s);
            }
        }
        else
        {
            errors.AddError("$.impact", "required: {effortDays, cost: {amount, currency}, scheduleDays}");
        }
        if (item is not null && errors.Count == 0)
        {
            item = await ResolveAsync(item, pilot, "$.scope", errors, apps, svc, ct);
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (pilot.FrozenAt is null)
        {
            return Conflict($"The scope of pilot '{id}' is not frozen: change it directly (POST /api/pilots/{id}/scope) or freeze it first.", "scope_not_frozen");
        }
        var change = new ChangeRequest(KeyMaterial.NewId("chg"), id, kind!, itemId, item, impact!, reason!, ChangeStatuses.Pending, time.GetUtcNow(), null, null, null);
        await store.AddChangeAsync(change, ct);
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, Actions.ChangeRequested, "pilot", id, pilot.WorkspaceId,
            new JsonObject { ["change"] = change.Id, ["kind"] = change.Kind, ["item"] = item?.Id ?? itemId }));
        return TypedResults.Json(change, statusCode: 201);
    }

    private static async Task<IResult> ChangesAsync(string id, HttpContext ctx, IPilotStore store, CancellationToken ct) =>
        await FindAsync(id, ctx, store, ct) is null ? NotFound(id) : TypedResults.Ok(new { changes = await store.ChangesAsync(id, ct) });

    private static async Task<IResult> DecideAsync(string id, string cid, string decision, HttpContext ctx, IPilotStore store, AuditLog audit, TimeProvider time,
        CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return NotFound(id);
        }
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        PilotInput.Only(body!, errors, "$", "by", "note");
        var by = PilotInput.Text(body!, "by", "$", errors, true);
        var note = PilotInput.Text(body!, "note", "$", errors, false, PilotInput.MaxDescription);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if ((await store.ChangesAsync(id, ct)).FirstOrDefault(c => c.Id == cid) is not { } change)
        {
            return TypedResults.Problem(statusCode: 404, detail: $"No change request '{cid}' in pilot '{id}'.");
        }
        if (change.Status != ChangeStatuses.Pending)
        {
            return Conflict($"Change request '{cid}' was {change.Status} already.", "change_decided");
        }
        if (decision == ChangeStatuses.Approved && change.Kind is "change" or "remove" && !(await store.ScopeAsync(id, ct)).Any(s => s.Id == change.Item))
        {
            return Conflict($"Scope item '{change.Item}' is no longer in the scope; reject this change request.", "item_gone");
        }
        var decided = change with { Status = decision, DecidedBy = by, Note = note, DecidedAt = time.GetUtcNow() };
        if (!await store.DecideAsync(decided, ct))
        {
            return Conflict($"Change request '{cid}' was decided already.", "change_decided");
        }
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, decision == ChangeStatuses.Approved ? Actions.ChangeApproved : Actions.ChangeRejected,
            "pilot", id, pilot.WorkspaceId, new JsonObject { ["change"] = cid, ["kind"] = change.Kind, ["by"] = by, ["note"] = note }));
        return TypedResults.Ok(decided);
    }

    private static async Task<IResult> EffortAsync(string id, HttpContext ctx, IPilotStore store, PilotService svc, AuditLog audit, TimeProvider time,
        CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return NotFound(id);
        }
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        PilotInput.Only(body!, errors, "$", "scopeItem", "role", "person", "days", "dayRate", "date");
        var item = PilotInput.Text(body!, "scopeItem", "$", errors, false);
        var role = PilotInput.Text(body!, "role", "$", errors, true);
        var person = PilotInput.Text(body!, "person", "$", errors, false);
        var days = PilotInput.Number(body!, "days", "$", errors, true, 0, 10_000);
        var rate = PilotInput.Amount(body!, "dayRate", "$", errors, true);
        var date = PilotInput.Date(body!, "date", "$", errors, true);
        if (item is not null && !(await store.ScopeAsync(id, ct)).Any(s => s.Id == item))
        {
            errors.AddError("$.scopeItem", "no such item in the pilot's scope");
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var entry = new EffortEntry(KeyMaterial.NewId("eff"), id, item, role!, person, days!.Value, rate!, date!.Value, time.GetUtcNow());
        await store.AddEffortAsync(entry, ct);
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, Actions.EffortLogged, "pilot", id, pilot.WorkspaceId,
            new JsonObject { ["effort"] = entry.Id, ["days"] = entry.Days, ["role"] = entry.Role }));
        // Alerts on effort are raised as soon as it is logged, not only when someone next reads the ledger.
        await svc.LedgerAsync(pilot, ct);
        return TypedResults.Json(new { entry.Id, entry.ScopeItem, entry.Role, entry.Person, entry.Days, entry.DayRate, date = entry.Date.ToString("yyyy-MM-dd"),
            amount = new Money(entry.Amount, entry.DayRate.Currency) }, statusCode: 201);
    }

    private static async Task<IResult> LedgerAsync(string id, HttpContext ctx, IPilotStore store, PilotService svc, CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return NotFound(id);
        }
        var (ledger, _, _) = await svc.LedgerAsync(pilot, ct);
        return TypedResults.Ok(new { ledger, alerts = await store.AlertsAsync(id, ct) });
    }

    private static async Task<IResult> ReportAsync(string id, HttpContext ctx, string? format, string? lang, IPilotStore store, PilotService svc, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (format is not null && format is not ("html" or "md" or "json"))
        {
            errors.AddError("format", "one of html, md, json");
        }
        if (lang is not null && !PilotReport.Languages.Contains(lang))
        {
            errors.AddError("lang", $"one of {string.Join(", ", PilotReport.Languages)}");
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (await FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return NotFound(id);
        }
        var facts = await svc.FactsAsync(pilot, ct);
        var language = lang ?? "en";
        return (format ?? "json") switch
        {
            "html" => TypedResults.Text(PilotReport.Html(facts, language), "text/html; charset=utf-8"),
            "md" => TypedResults.Text(PilotReport.Markdown(facts, language), "text/markdown; charset=utf-8"),
            _ => TypedResults.Text(PilotReport.Json(facts, language).ToJsonString(PilotReport.Indented), "application/json; charset=utf-8"),
        };
    }

    private static async Task<IResult> SignoffAsync(string id, HttpContext ctx, IPilotStore store, PilotService svc, AuditLog audit, TimeProvider time,
        CancellationToken ct)
    {
        if (await FindAsync(id, ctx, store, ct) is not { } pilot)
        {
            return NotFound(id);
        }
        var (body, problem) = await JsonBody.ReadObjectAsync(ctx.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        PilotInput.Only(body!, errors, "$", "side", "name");
        var side = PilotInput.OneOf(body!, "side", "$", errors, ["customer", "vendor"], true);
        var name = PilotInput.Text(body!, "name", "$", errors, true);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var snapshot = PilotReport.Json(await svc.FactsAsync(pilot, ct), "en").ToJsonString(PilotReport.Indented);
        var signoff = new Signoff(id, side!, name!, time.GetUtcNow(), PilotReport.Sha256(snapshot), snapshot);
        await store.PutSignoffAsync(signoff, ct);
        await audit.RecordAsync(new AuditEntry(Caller.Of(ctx).Actor, Actions.SignedOff, "pilot", id, pilot.WorkspaceId,
            new JsonObject { ["side"] = side, ["name"] = name, ["sha256"] = signoff.Sha256 }));
        return TypedResults.Json(SignoffView(signoff, true), statusCode: 201);
    }

    private static object SignoffView(Signoff s, bool withSnapshot) => new
    {
        side = s.Side, name = s.Name, at = s.At, sha256 = s.Sha256, snapshot = withSnapshot ? s.Snapshot : null,
    };

    private static async Task<IResult> SignoffsAsync(string id, HttpContext ctx, IPilotStore store, CancellationToken ct) =>
        await FindAsync(id, ctx, store, ct) is null ? NotFound(id)
            : TypedResults.Ok(new { signoffs = (await store.SignoffsAsync(id, ct)).Select(s => SignoffView(s, true)) });
}
