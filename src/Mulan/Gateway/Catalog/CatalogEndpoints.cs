using Mulan.Access;
using Microsoft.AspNetCore.Http.HttpResults;
using Mulan.Audit;

namespace Mulan.Gateway.Catalog;

public static class CatalogEndpoints
{
    public static RouteGroupBuilder MapCatalog(this RouteGroupBuilder api)
    {
        api.MapPost("/providers", CreateProviderAsync).WithName("CreateProvider").WithSummary("Add a provider; its apiKey is encrypted at rest and never returned.");
        api.MapGet("/providers", (CatalogState state) => TypedResults.Ok(new
        {
            providers = state.Current.Providers.Values.OrderBy(p => p.Name, StringComparer.Ordinal).Select(ProviderView.From),
        })).WithName("ListProviders").WithSummary("List providers (secrets are never returned).");
        api.MapDelete("/providers/{name}", DeleteProviderAsync).WithName("DeleteProvider");
        api.MapPost("/models", CreateModelAsync).WithName("CreateModel").WithSummary("Add a model route.");
        api.MapGet("/models", (CatalogState state) => TypedResults.Ok(new
        {
            models = state.Current.Models.Values.OrderBy(m => m.Name, StringComparer.Ordinal).Select(ModelView.From),
        })).WithName("ListModels.Admin").RequireAccess(WorkspaceRole.Viewer).WithSummary("List model routes with their deployments and prices.");
        api.MapDelete("/models/{name}", DeleteModelAsync).WithName("DeleteModel");
        api.MapPost("/models/{name}/prices", AddPriceAsync).WithName("AddModelPrice")
            .WithSummary("Announce a deployment's new price from its effectiveFrom on (API-created routes; config routes change in the file).");
        return api;
    }

    /// <param name="Protocol"><c>openai-compatible</c> (passed through) or the native protocol it is translated to.</param>
    public sealed record ProviderView(string Name, string Kind, string Protocol, string Location, string BaseUrl, bool HasApiKey, IReadOnlyCollection<string> Headers, string Source)
    {
        // Header values may hold credentials too (an organisation id, an app id): names only.
        public static ProviderView From(Provider p) => new(p.Name, p.Kind.Name, ProtocolName(p.Kind.Protocol), p.IsLocal ? "local" : "external", p.BaseUrl.AbsoluteUri.TrimEnd('/'),
            !string.IsNullOrEmpty(p.ApiKey), [.. p.Headers.Keys], p.Source == CatalogSource.Config ? "config" : "api");

        private static string ProtocolName(WireProtocol protocol) => protocol switch
        {
            WireProtocol.OpenAICompatible => "openai-compatible",
            WireProtocol.AzureOpenAI => "azure-openai",
            WireProtocol.DashScope => "dashscope",
            _ => protocol.ToString().ToLowerInvariant(),
        };
    }

    public sealed record PriceView(string Currency, decimal Input, decimal Output, decimal? CachedInput, decimal? Reasoning, DateTimeOffset? EffectiveFrom)
    {
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public decimal? PerSecond { get; init; }

        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public decimal? PerMillionCharacters { get; init; }

        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public decimal? PerPage { get; init; }

        public static PriceView From(Price p) => new(p.Currency.ToString(), p.Input, p.Output, p.CachedInput, p.Reasoning, p.EffectiveFrom)
        {
            PerSecond = p.PerSecond, PerMillionCharacters = p.PerMillionCharacters, PerPage = p.PerPage,
        };
    }

    public sealed record TimeoutsView(double? ConnectSeconds, double? FirstByteSeconds, double? TotalSeconds);

    /// <param name="Price">the first price; <paramref name="PriceChanges"/> the later ones; <paramref name="PriceNow"/> the one in force.</param>
    public sealed record DeploymentView(string Provider, string Model, PriceView Price, IReadOnlyList<PriceView> PriceChanges, PriceView PriceNow,
        int Weight, bool Enabled, int? MaxRetries, TimeoutsView Timeouts);

    public sealed record ModelView(string Name, string Strategy, bool LocalOnly, int? CacheTtlSeconds, IReadOnlyList<DeploymentView> Deployments, string Source)
    {
        /// <summary><c>chat</c>, <c>transcription</c>, <c>speech</c> or <c>ocr</c>.</summary>
        public string Kind { get; init; } = "chat";

        public static ModelView From(ModelRoute m) => new ModelView(m.Name, CatalogValidator.StrategyName(m.Strategy), m.LocalOnly,
            m.CacheTtl is { } ttl ? (int)ttl.TotalSeconds : null,
            [.. m.Deployments.Select(d => new DeploymentView(d.Provider.Name, d.VendorModel,
                PriceView.From(d.Price), [.. d.Changes.Select(PriceView.From)], PriceView.From(d.PriceAt(DateTimeOffset.UtcNow)), d.Weight,
                d.Settings.Enabled, d.Settings.MaxRetries,
                new TimeoutsView(d.Settings.Connect?.TotalSeconds, d.Settings.FirstByte?.TotalSeconds, d.Settings.Total?.TotalSeconds)))],
            m.Source == CatalogSource.Config ? "config" : "api") { Kind = ModelKinds.Name(m.Kind) };
    }

    private static async Task<Results<Created<ProviderView>, ValidationProblem, ProblemHttpResult>> CreateProviderAsync(
        ProviderDefinition? body, CatalogService catalog, CatalogState state, AuditLog audit, CancellationToken ct)
    {
        var (change, errors) = await catalog.AddProviderAsync(body ?? new ProviderDefinition(), ct);
        if (change == CatalogChange.Created)
        {
            // The /api group admits only the administrator key.
            await audit.RecordAsync(AuditEntries.ProviderCreated(AuditActor.Admin, state.Current.Providers[body!.Name!]));
        }
        return change switch
        {
            CatalogChange.Created => TypedResults.Created($"/api/providers/{body!.Name}", ProviderView.From(state.Current.Providers[body.Name!])),
            CatalogChange.Conflict => TypedResults.Problem(detail: string.Join("; ", errors), statusCode: 409),
            _ => Validation(errors),
        };
    }

    private static async Task<Results<Created<ModelView>, ValidationProblem, ProblemHttpResult>> CreateModelAsync(
        ModelDefinition? body, CatalogService catalog, CatalogState state, AuditLog audit, Access.IAccessStore access, Governance.Currencies.ExchangeRates rates,
        TimeProvider time, CancellationToken ct)
    {
        if (await UnchargeableAsync(body, access, rates, time.GetUtcNow(), ct) is { } refused)
        {
            return Validation(refused);
        }
        var (change, errors) = await catalog.AddModelAsync(body ?? new ModelDefinition(), ct);
        if (change == CatalogChange.Created)
        {
            // The /api group admits only the administrator key.
            await audit.RecordAsync(AuditEntries.ModelCreated(AuditActor.Admin, state.Current.Models[body!.Name!]));
        }
        return change switch
        {
            CatalogChange.Created => TypedResults.Created($"/api/models/{body!.Name}", ModelView.From(state.Current.Models[body.Name!])),
            CatalogChange.Conflict => TypedResults.Problem(detail: string.Join("; ", errors), statusCode: 409),
            _ => Validation(errors),
        };
    }

    // A new model that a budget covering every model (a workspace's, or a key's without a model list) could never be
    // charged for is refused, rather than admitted and then refused on every request of such a key.
    private static async Task<IReadOnlyList<string>?> UnchargeableAsync(ModelDefinition? body, Access.IAccessStore access,
        Governance.Currencies.ExchangeRates rates, DateTimeOffset now, CancellationToken ct)
    {
        var priced = (body?.Deployments ?? []).Select((d, i) => (Index: i, Currency: Enum.TryParse<Currency>(d?.Price?.Currency?.ToUpperInvariant(), out var c) ? c : (Currency?)null))
            .Where(p => p.Currency is not null).ToList();
        if (priced.Count == 0)
        {
            return null;
        }
        var budgets = (await access.ListWorkspacesAsync(ct)).Where(w => w.Budget is not null).Select(w => (What: $"workspace '{w.Name}'", Budget: w.Budget!))
            .Concat((await access.ListKeysAsync(null, ct)).Where(k => k.Budget is not null && k.RevokedAt is null && k.Models is null)
                .Select(k => (What: $"key '{k.Name}' ({k.Id})", Budget: k.Budget!)));
        foreach (var (what, budget) in budgets)
        {
            var currency = Enum.Parse<Currency>(budget.Currency);
            foreach (var (index, price) in priced)
            {
                if (rates.Current.RateAt(price!.Value, currency, now) is null)
                {
                    return [$"model.deployments[{index}].price.currency: " + Governance.Currencies.ExchangeRates.Missing(price.Value, currency,
                        $"{what} has a {currency} budget over every model")];
                }
            }
        }
        return null;
    }

    public sealed record PriceChangeRequest(string? Provider, string? Model, PriceDefinition? Price);

    private static async Task<IResult> AddPriceAsync(string name, PriceChangeRequest? body, HttpContext ctx, CatalogService catalog, CatalogState state,
        AuditLog audit, Access.IAccessStore access, Governance.Currencies.ExchangeRates rates, TimeProvider time, CancellationToken ct)
    {
        if (body?.Price is { } price && await UnchargeableAsync(new ModelDefinition { Deployments = [new DeploymentDefinition { Price = price }] },
                access, rates, time.GetUtcNow(), ct) is { } refused)
        {
            return Validation([.. refused.Select(e => e.Replace("model.deployments[0].price", "price", StringComparison.Ordinal))]);
        }
        var (change, errors) = await catalog.AddPriceChangeAsync(name, body?.Provider, body?.Model, body?.Price, ct);
        if (change != CatalogChange.Created)
        {
            return change == CatalogChange.Invalid ? Validation(errors) : Outcome(change, "model", name);
        }
        var route = state.Current.Models[name];
        await audit.RecordAsync(new AuditEntry(Access.Caller.Of(ctx).Actor, AuditActions.ModelPriceChanged, "model", name, null, new System.Text.Json.Nodes.JsonObject
        {
            ["provider"] = body!.Provider,
            ["model"] = body.Model,
            ["currency"] = body.Price!.Currency?.ToUpperInvariant(),
            ["input"] = body.Price.Input,
            ["output"] = body.Price.Output,
            ["effectiveFrom"] = body.Price.EffectiveFrom,
        }));
        return TypedResults.Created($"/api/models/{name}", ModelView.From(route));
    }

    private static async Task<IResult> DeleteProviderAsync(string name, CatalogService catalog, CatalogState state, AuditLog audit, CancellationToken ct)
    {
        // Read before deleting, so the entry says what was removed.
        var before = state.Current.Providers.GetValueOrDefault(name);
        var change = await catalog.DeleteProviderAsync(name, ct);
        if (change == CatalogChange.Deleted)
        {
            await audit.RecordAsync(AuditEntries.ProviderDeleted(AuditActor.Admin, name, before));
        }
        return Outcome(change, "provider", name);
    }

    private static async Task<IResult> DeleteModelAsync(string name, CatalogService catalog, CatalogState state, ModelReferences references, AuditLog audit,
        CancellationToken ct)
    {
        var before = state.Current.Models.GetValueOrDefault(name);
        if (before is not null && await references.UsersOfAsync(name, ct) is { Count: > 0 } users)
        {
            return TypedResults.Problem(detail: $"The model '{name}' is used by {string.Join(", ", users)}; change or unpublish them first.", statusCode: 409,
                extensions: new Dictionary<string, object?> { ["usedBy"] = users });
        }
        var change = await catalog.DeleteModelAsync(name, ct);
        if (change == CatalogChange.Deleted)
        {
            await audit.RecordAsync(AuditEntries.ModelDeleted(AuditActor.Admin, name, before));
        }
        return Outcome(change, "model", name);
    }

    // "provider.baseUrl: must be ..." → { "provider.baseUrl": ["must be ..."] }
    private static ValidationProblem Validation(IReadOnlyList<string> errors) => TypedResults.ValidationProblem(errors
        .Select(e => e.Split(": ", 2))
        .GroupBy(p => p[0], p => p.Length > 1 ? p[1] : p[0])
        .ToDictionary(g => g.Key, g => g.ToArray()));

    private static IResult Outcome(CatalogChange change, string what, string name) => change switch
    {
        CatalogChange.Deleted => TypedResults.NoContent(),
        CatalogChange.NotFound => TypedResults.Problem(detail: $"No {what} '{name}'.", statusCode: 404),
        CatalogChange.ReadOnly => TypedResults.Problem(detail: $"The {what} '{name}' comes from the configuration file; change it there.", statusCode: 409),
        CatalogChange.InUse => TypedResults.Problem(detail: $"The {what} '{name}' is used by a model route; delete the route first.", statusCode: 409),
        _ => TypedResults.Problem(statusCode: 500),
    };
}
