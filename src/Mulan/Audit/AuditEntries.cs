using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Mulan.Access;
using Mulan.Apps.Compliance;
using Mulan.Gateway.Catalog;
using Mulan.Knowledge;

namespace Mulan.Audit;

/// <summary>
/// What each action records. Every field is named here on purpose: never a virtual key or its hash, never a
/// provider's apiKey or header values (header names only), so the audit log can be shown to anyone who may read it.
/// </summary>
public static class AuditEntries
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Only the fact and where from: never the key or its hash.</summary>
    public static AuditEntry AdminKeyReset(string dataFolder) =>
        new(AuditActor.DataFolder, AuditActions.AdminKeyReset, "admin_key", "admin", null, Details(new { dataFolder, host = Environment.MachineName }));

    public static AuditEntry WorkspaceCreated(string actor, Workspace w) =>
        new(actor, AuditActions.WorkspaceCreated, "workspace", w.Id, w.Id, Details(new { name = w.Name }));

    public static AuditEntry WorkspacePiiChanged(string actor, Workspace before, Workspace after) =>
        new(actor, AuditActions.WorkspacePiiChanged, "workspace", after.Id, after.Id, Details(new { from = before.Pii, to = after.Pii }));

    public static AuditEntry WorkspaceLimitsChanged(string actor, Workspace before, Workspace after) =>
        new(actor, AuditActions.WorkspaceLimitsChanged, "workspace", after.Id, after.Id, Details(new
        {
            from = new { budget = Budget(before.Budget), rpm = before.Rpm, tpm = before.Tpm },
            to = new { budget = Budget(after.Budget), rpm = after.Rpm, tpm = after.Tpm },
        }));

    private static object? Budget(KeyBudget? b) => b is null ? null : new { amount = b.Amount, currency = b.Currency, period = b.Period.ToString().ToLowerInvariant() };

    public static AuditEntry KeyCreated(string actor, VirtualKey k) =>
        new(actor, AuditActions.KeyCreated, "key", k.Id, k.WorkspaceId, Details(new
        {
            name = k.Name,
            workspace = k.WorkspaceId,
            models = k.Models,
            budget = k.Budget is { } b ? new { amount = b.Amount, currency = b.Currency, period = b.Period.ToString().ToLowerInvariant() } : null,
            rpm = k.Rpm,
            tpm = k.Tpm,
            expiresAt = k.ExpiresAt,
        }));

    public static AuditEntry KeyRevoked(string actor, VirtualKey k) =>
        new(actor, AuditActions.KeyRevoked, "key", k.Id, k.WorkspaceId, Details(new { name = k.Name }));

    /// <summary>The settings that changed, each as <c>{from, to}</c>.</summary>
    public static AuditEntry KeyUpdated(string actor, VirtualKey before, VirtualKey after)
    {
        var details = new JsonObject { ["name"] = after.Name };
        void Change(string field, object? from, object? to)
        {
            var f = JsonSerializer.SerializeToNode(from, Json);
            var t = JsonSerializer.SerializeToNode(to, Json);
            if (!JsonNode.DeepEquals(f, t))
            {
                details[field] = new JsonObject { ["from"] = f, ["to"] = t };
            }
        }
        Change("name", before.Name, after.Name);
        Change("models", before.Models, after.Models);
        Change("budget", Budget(before.Budget), Budget(after.Budget));
        Change("rpm", before.Rpm, after.Rpm);
        Change("tpm", before.Tpm, after.Tpm);
        Change("expiresAt", before.ExpiresAt, after.ExpiresAt);
        Change("localOnly", before.LocalOnly, after.LocalOnly);
        return new(actor, AuditActions.KeyUpdated, "key", after.Id, after.WorkspaceId, details);
    }

    /// <summary>That the secret changed; never the secret, its hash or its prefix.</summary>
    public static AuditEntry KeyRotated(string actor, VirtualKey k) =>
        new(actor, AuditActions.KeyRotated, "key", k.Id, k.WorkspaceId, Details(new { name = k.Name }));

    public static AuditEntry WorkspaceRenamed(string actor, Workspace before, string name) =>
        new(actor, AuditActions.WorkspaceRenamed, "workspace", before.Id, before.Id, Details(new { from = before.Name, to = name }));

    /// <param name="revokedKeys">the keys the deletion revoked (each also has its own <c>key.revoked</c> entry).</param>
    public static AuditEntry WorkspaceDeleted(string actor, Workspace w, IReadOnlyList<VirtualKey> revokedKeys, IReadOnlyList<KnowledgeBase> knowledgeBases) =>
        new(actor, AuditActions.WorkspaceDeleted, "workspace", w.Id, w.Id, Details(new
        {
            name = w.Name,
            revokedKeys = revokedKeys.Select(k => new { id = k.Id, name = k.Name }).ToList(),
            knowledgeBases = knowledgeBases.Select(k => new { id = k.Id, name = k.Name }).ToList(),
        }));

    public static AuditEntry ProviderCreated(string actor, Provider p) =>
        new(actor, AuditActions.ProviderCreated, "provider", p.Name, null, ProviderDetails(p));

    /// <param name="deleted">the provider as it was, so the entry says what was removed; null if it was not in the snapshot.</param>
    public static AuditEntry ProviderDeleted(string actor, string name, Provider? deleted) =>
        new(actor, AuditActions.ProviderDeleted, "provider", name, null, deleted is null ? null : ProviderDetails(deleted));

    public static AuditEntry ModelCreated(string actor, ModelRoute m) =>
        new(actor, AuditActions.ModelCreated, "model", m.Name, null, ModelDetails(m));

    /// <param name="deleted">the route as it was, so the entry keeps its deployments and prices.</param>
    public static AuditEntry ModelDeleted(string actor, string name, ModelRoute? deleted) =>
        new(actor, AuditActions.ModelDeleted, "model", name, null, deleted is null ? null : ModelDetails(deleted));

    public static AuditEntry KnowledgeBaseCreated(string actor, KnowledgeBase kb) =>
        new(actor, AuditActions.KnowledgeBaseCreated, "knowledge_base", kb.Id, kb.WorkspaceId, Details(new
        {
            name = kb.Name,
            description = kb.Description,
            embeddingModel = kb.EmbeddingModel ?? "none",
            rerankModel = kb.RerankModel ?? "none",
        }));

    /// <summary>The settings that changed, each as <c>{from, to}</c>; a new embedding model counts from the moment it is asked for.</summary>
    public static AuditEntry KnowledgeBaseUpdated(string actor, KnowledgeBase before, KnowledgeBase after)
    {
        var details = new JsonObject { ["name"] = after.Name };
        if (before.Name != after.Name)
        {
            details["renamedFrom"] = before.Name;
        }
        if (before.Description != after.Description)
        {
            details["description"] = new JsonObject { ["from"] = before.Description, ["to"] = after.Description };
        }
        AddChange(details, "embeddingModel", TargetEmbedding(before), TargetEmbedding(after));
        AddChange(details, "rerankModel", before.RerankModel ?? "none", after.RerankModel ?? "none");
        return new(actor, AuditActions.KnowledgeBaseUpdated, "knowledge_base", after.Id, after.WorkspaceId, details);
    }

    /// <param name="force">deleted although something still used it.</param>
    public static AuditEntry AppCreated(string actor, Apps.App app) =>
        new(actor, AuditActions.AppCreated, "app", app.Id, app.WorkspaceId, Details(new { slug = app.Slug, kind = app.Kind, version = app.LatestVersion }));

    public static AuditEntry AppUpdated(string actor, Apps.App app, string? note) =>
        new(actor, AuditActions.AppUpdated, "app", app.Id, app.WorkspaceId, Details(new { slug = app.Slug, version = app.LatestVersion, note }));

    /// <param name="action"><see cref="AuditActions.AppPublished"/> or <see cref="AuditActions.AppRolledBack"/>.</param>
    public static AuditEntry AppPublished(string actor, string action, Apps.App app, int? from) =>
        new(actor, action, "app", app.Id, app.WorkspaceId, Details(new { slug = app.Slug, version = app.PublishedVersion, from }));

    public static AuditEntry AppDeleted(string actor, Apps.App app) =>
        new(actor, AuditActions.AppDeleted, "app", app.Id, app.WorkspaceId, Details(new { slug = app.Slug, versions = app.LatestVersion }));

    public static AuditEntry KnowledgeBaseDeleted(string actor, KnowledgeBase kb, int documents, bool force) =>
        new(actor, AuditActions.KnowledgeBaseDeleted, "knowledge_base", kb.Id, kb.WorkspaceId, Details(new { name = kb.Name, documents, force }));

    public static AuditEntry DocumentRenamed(string actor, KnowledgeBase kb, KnowledgeDocument before, string title) =>
        new(actor, AuditActions.DocumentRenamed, "document", before.Id, kb.WorkspaceId,
            Details(new { knowledgeBase = kb.Id, source = before.Source, from = before.Title, to = title }));

    /// <param name="deleted">every document deleted: the one asked for and any version queued to replace it.</param>
    public static AuditEntry DocumentDeleted(string actor, KnowledgeBase kb, KnowledgeDocument document, IReadOnlyList<string> deleted) =>
        new(actor, AuditActions.DocumentDeleted, "document", document.Id, kb.WorkspaceId,
            Details(new { knowledgeBase = kb.Id, title = document.Title, source = document.Source, deleted }));

    /// <summary>Counts before and after, and the terms added and removed (terms are not secrets; the whole rule text is in the rules themselves).</summary>
    public static AuditEntry ComplianceRulesChanged(string actor, Workspace w, IReadOnlyList<ComplianceRule> before, IReadOnlyList<ComplianceRule> after)
    {
        var old = before.SelectMany(r => r.Terms).ToHashSet(StringComparer.Ordinal);
        var now = after.SelectMany(r => r.Terms).ToHashSet(StringComparer.Ordinal);
        return new(actor, AuditActions.ComplianceRulesChanged, "compliance_rules", w.Id, w.Id, Details(new
        {
            workspace = w.Name,
            from = new { rules = before.Count, terms = old.Count },
            to = new { rules = after.Count, terms = now.Count },
            added = now.Except(old).Order(StringComparer.Ordinal).ToList(),
            removed = old.Except(now).Order(StringComparer.Ordinal).ToList(),
        }));
    }

    private static string TargetEmbedding(KnowledgeBase kb) => kb.PendingEmbeddingModel ?? kb.EmbeddingModel ?? "none";

    private static void AddChange(JsonObject details, string field, string from, string to)
    {
        if (from != to)
        {
            details[field] = new JsonObject { ["from"] = from, ["to"] = to };
        }
    }

    private static JsonObject ProviderDetails(Provider p) => Details(new
    {
        name = p.Name,
        kind = p.Kind.Name,
        baseUrl = p.BaseUrl.AbsoluteUri.TrimEnd('/'),
        hasApiKey = !string.IsNullOrEmpty(p.ApiKey),
        headers = p.Headers.Keys.Order(StringComparer.Ordinal).ToList(),
    });

    private static JsonObject ModelDetails(ModelRoute m) => Details(new
    {
        name = m.Name,
        strategy = CatalogValidator.StrategyName(m.Strategy),
        deployments = m.Deployments.Select(d => new
        {
            provider = d.Provider.Name,
            model = d.VendorModel,
            price = new { currency = d.Price.Currency.ToString(), input = d.Price.Input, output = d.Price.Output, cachedInput = d.Price.CachedInput },
        }).ToList(),
    });

    private static JsonObject Details<T>(T value) => JsonSerializer.SerializeToNode(value, Json)!.AsObject();
}
