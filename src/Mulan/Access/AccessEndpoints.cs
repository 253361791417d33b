using Microsoft.AspNetCore.Http.HttpResults;
using Mulan.Audit;
using Mulan.Gateway.Catalog;
using Mulan.Governance.Currencies;
using Mulan.Hosting.Problems;

namespace Mulan.Access;

public static class AccessEndpoints
{
    /// <summary>The largest budget amount accepted, in its currency: far above any real budget, far below where sums lose precision.</summary>
    public const decimal MaxBudgetAmount = 1_000_000_000m;
    public const int MaxRpm = 1_000_000;
    public const int MaxTpm = 1_000_000_000;
    public static readonly TimeSpan MaxKeyLifetime = TimeSpan.FromDays(100 * 365);

    public static RouteGroupBuilder MapAccess(this RouteGroupBuilder api)
    {
        api.MapPost("/workspaces", CreateWorkspaceAsync).WithName("CreateWorkspace").WithSummary("Create a workspace (tenant).");
        api.MapPut("/workspaces/{workspace}/pii", SetPiiAsync).WithName("SetWorkspacePii")
            .WithSummary("Replace the PII guard's rules of a workspace (applied before a request reaches an external provider).");
        api.MapPut("/workspaces/{workspace}/limits", SetLimitsAsync).WithName("SetWorkspaceLimits")
            .WithSummary("Replace the budget and rate limits every key of a workspace shares.");
        api.MapGet("/workspaces", async (IAccessStore store, CancellationToken ct) =>
            TypedResults.Ok(new { workspaces = (await store.ListWorkspacesAsync(ct)).Select(WorkspaceDto.From) }))
            .WithName("ListWorkspaces").WithSummary("List workspaces.");
        api.MapPost("/keys", CreateKeyAsync).WithName("CreateKey").WithSummary("Create a virtual key; the key is returned only here.");
        api.MapGet("/keys", ListKeysAsync).WithName("ListKeys").WithSummary("List virtual keys (never the keys themselves).");
        api.MapDelete("/keys/{id}", RevokeKeyAsync).WithName("RevokeKey").WithSummary("Revoke a key; it stops working at once.");
        api.MapKeyLifecycle();
        api.MapWorkspaceLifecycle();
        return api;
    }

    /// <summary><c>GET /api/workspaces/{workspace}/limits</c>: the workspace's budget and limits and each of its keys',
    /// readable by its own keys (never a key's secret).</summary>
    public static RouteGroupBuilder MapWorkspaceLimits(this RouteGroupBuilder scope)
    {
        scope.MapGet("/limits", async (HttpContext ctx, IAccessStore store, CancellationToken ct) =>
            {
                var workspace = WorkspaceScope.Of(ctx);
                var keys = await store.ListKeysAsync(workspace.Id, ct);
                return TypedResults.Ok(new WorkspaceLimits(WorkspaceDto.From(workspace), [.. keys.Where(k => k.RevokedAt is null).Select(k => KeyDto.From(k))]));
            })
            .WithName("WorkspaceLimits").WithSummary("A workspace's budget and rate limits and those of its keys.");
        return scope;
    }

    public sealed record WorkspaceLimits(WorkspaceDto Workspace, IReadOnlyList<KeyDto> Keys);

    public sealed record CreateWorkspaceRequest(string? Name, BudgetDto? Budget, int? Rpm, int? Tpm, bool? LocalOnly);

    /// <summary>The whole set: a field left out (or null) means none.</summary>
    public sealed record LimitsRequest(BudgetDto? Budget, int? Rpm, int? Tpm, bool? LocalOnly);

    public sealed record WorkspaceDto(string Id, string Name, DateTimeOffset CreatedAt, BudgetDto? Budget, int? Rpm, int? Tpm, bool LocalOnly, PiiSettings? Pii)
    {
        public static WorkspaceDto From(Workspace w) => new(w.Id, w.Name, w.CreatedAt, BudgetDto.From(w.Budget), w.Rpm, w.Tpm, w.LocalOnly, w.Pii);
    }

    public sealed record PiiRequest(List<PiiRuleSetting>? Rules, List<PiiPatternSetting>? Patterns);

    public sealed record BudgetDto(decimal? Amount, string? Currency, string? Period)
    {
        public static BudgetDto? From(KeyBudget? b) => b is null ? null : new(b.Amount, b.Currency, b.Period.ToString().ToLowerInvariant());
    }

    public sealed record CreateKeyRequest(string? Name, string? Workspace, List<string>? Models, BudgetDto? Budget, int? Rpm, int? Tpm, DateTimeOffset? ExpiresAt,
        bool? LocalOnly = null);

    public sealed record KeyDto(string Id, string Name, string Workspace, string Prefix, IReadOnlyList<string>? Models, BudgetDto? Budget,
        int? Rpm, int? Tpm, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset CreatedAt, bool LocalOnly,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Key = null)
    {
        public static KeyDto From(VirtualKey k, string? secret = null) => new(k.Id, k.Name, k.WorkspaceId, k.DisplayPrefix, k.Models,
            BudgetDto.From(k.Budget),
            k.Rpm, k.Tpm, k.ExpiresAt, k.RevokedAt, k.CreatedAt, k.LocalOnly, secret);
    }

    private static async Task<Results<Created<WorkspaceDto>, ValidationProblem, ProblemHttpResult>> CreateWorkspaceAsync(
        CreateWorkspaceRequest? body, AccessService access, AuditLog audit, CatalogState catalog, ExchangeRates rates, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var name = KeyRules.Name(body?.Name, errors);
        var budget = KeyRules.Limits(body?.Budget, body?.Rpm, body?.Tpm, errors);
        CheckChargeable(budget, catalog.Current.Models.Values, rates, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var created = await access.CreateWorkspaceAsync(name!, budget, body!.Rpm, body.Tpm, body.LocalOnly == true, ct);
        if (created is null)
        {
            return TypedResults.Problem(detail: $"A workspace named '{name}' exists.", statusCode: 409);
        }
        // The /api group admits only the administrator key.
        await audit.RecordAsync(AuditEntries.WorkspaceCreated(AuditActor.Admin, created));
        return TypedResults.Created($"/api/workspaces/{created.Id}", WorkspaceDto.From(created));
    }

    private static async Task<Results<Created<KeyDto>, ValidationProblem>> CreateKeyAsync(
        CreateKeyRequest? body, AccessService access, IAccessStore store, CatalogState catalog, ExchangeRates rates, AuditLog audit, TimeProvider time,
        CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var name = KeyRules.Name(body?.Name, errors);
        var workspace = await store.FindWorkspaceAsync(body?.Workspace ?? AccessService.DefaultWorkspaceName, ct);
        if (workspace is null)
        {
            errors["workspace"] = [$"no workspace '{body?.Workspace}'"];
        }
        var models = KeyRules.Models(body?.Models, catalog.Current, errors);
        var budget = KeyRules.Limits(body?.Budget, body?.Rpm, body?.Tpm, errors);
        KeyRules.Expiry(body?.ExpiresAt, time, errors);
        // A key without a model list may use every model, so its budget must be chargeable for all of them.
        CheckChargeable(budget, models is { Count: > 0 } ? models.Select(m => catalog.Current.Models.GetValueOrDefault(m)).OfType<ModelRoute>() : catalog.Current.Models.Values,
            rates, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (await access.CreateKeyAsync(workspace!, name!, models, budget, body!.Rpm, body.Tpm, body.ExpiresAt, body.LocalOnly == true, ct)
            is not { } created)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["workspace"] = [$"no workspace '{body.Workspace}'"] });
        }
        var (key, secret) = created;
        await audit.RecordAsync(AuditEntries.KeyCreated(AuditActor.Admin, key));
        return TypedResults.Created($"/api/keys/{key.Id}", KeyDto.From(key, secret));
    }

    private static async Task<Results<Ok<WorkspaceDto>, ValidationProblem, ProblemHttpResult>> SetLimitsAsync(
        string workspace, LimitsRequest? body, AccessService access, AuditLog audit, CatalogState catalog, ExchangeRates rates, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var budget = KeyRules.Limits(body?.Budget, body?.Rpm, body?.Tpm, errors);
        CheckChargeable(budget, catalog.Current.Models.Values, rates, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (await access.SetLimitsAsync(workspace, budget, body?.Rpm, body?.Tpm, body?.LocalOnly == true, ct) is not { } change)
        {
            return TypedResults.Problem(detail: $"No workspace '{workspace}'.", statusCode: 404);
        }
        await audit.RecordAsync(AuditEntries.WorkspaceLimitsChanged(AuditActor.Admin, change.Before, change.After));
        return TypedResults.Ok(WorkspaceDto.From(change.After));
    }

    private static async Task<Results<Ok<WorkspaceDto>, ValidationProblem, ProblemHttpResult>> SetPiiAsync(
        string workspace, PiiRequest? body, AccessService access, AuditLog audit, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var rules = body?.Rules ?? [];
        var patterns = body?.Patterns ?? [];
        for (var i = 0; i < rules.Count; i++)
        {
            if (rules[i]?.Action?.ToLowerInvariant() is not ("allow" or "mask" or "block"))
            {
                errors[$"rules[{i}].action"] = ["must be allow, mask or block"];
            }
        }
        for (var i = 0; i < patterns.Count; i++)
        {
            try
            {
                Governance.Pii.PiiPattern.Create(patterns[i]?.Name ?? "", patterns[i]?.Pattern ?? "");
            }
            catch (Exception e) when (e is Governance.Pii.PiiPatternException or ArgumentException)
            {
                errors[$"patterns[{i}]"] = [e.Message];
            }
        }
        PiiSettings? settings = rules.Count == 0 && patterns.Count == 0 ? null : new PiiSettings(rules, patterns);
        if (errors.Count == 0 && settings is not null)
        {
            try
            {
                settings.Compile();
            }
            catch (ArgumentException e)
            {
                errors["rules"] = [e.Message];
            }
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (await access.SetPiiAsync(workspace, settings, ct) is not { } change)
        {
            return TypedResults.Problem(detail: $"No workspace '{workspace}'.", statusCode: 404);
        }
        await audit.RecordAsync(AuditEntries.WorkspacePiiChanged(AuditActor.Admin, change.Before, change.After));
        return TypedResults.Ok(WorkspaceDto.From(change.After));
    }

    /// <summary>A budget is refused when it could not be charged for a model it covers (no exchange rate between the
    /// budget's currency and the model's price): otherwise every request of that model would be refused later.
    /// New key or workspace endpoints that set a budget or a model list call this too.</summary>
    public static void CheckChargeable(KeyBudget? budget, IEnumerable<ModelRoute> routes, ExchangeRates rates, Dictionary<string, string[]> errors)
    {
        if (budget is null || errors.Keys.Any(k => k.StartsWith("budget.", StringComparison.Ordinal)))
        {
            return;
        }
        if (rates.MissingRate(budget.Currency, routes) is { } missing)
        {
            errors.AddError("budget.currency", missing);
        }
    }

    private static async Task<Results<Ok<KeysPage>, ValidationProblem>> ListKeysAsync(string? workspace, IAccessStore store, CancellationToken ct)
    {
        string? workspaceId = null;
        if (workspace is not null)
        {
            // A deleted workspace's keys stay listable (all revoked) for accounting.
            var w = await store.FindWorkspaceIncludingDeletedAsync(workspace, ct);
            if (w is null)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["workspace"] = [$"no workspace '{workspace}'"] });
            }
            workspaceId = w.Id;
        }
        return TypedResults.Ok(new KeysPage([.. (await store.ListKeysAsync(workspaceId, ct)).Select(k => KeyDto.From(k))]));
    }

    public sealed record KeysPage(IReadOnlyList<KeyDto> Keys);

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeKeyAsync(string id, string? workspace, AccessService access, IAccessStore store,
        AuditLog audit, CancellationToken ct)
    {
        if (await KeyLifecycleEndpoints.FindInScopeAsync(id, workspace, store, ct) is null || await access.RevokeKeyAsync(id, ct) is not { } revoked)
        {
            return TypedResults.Problem(detail: $"No key '{id}'.", statusCode: 404);
        }
        // Revoking a revoked key again answers 204 too, but changes nothing and so is not recorded.
        if (revoked.Changed)
        {
            await audit.RecordAsync(AuditEntries.KeyRevoked(AuditActor.Admin, revoked.Key));
        }
        return TypedResults.NoContent();
    }
}

