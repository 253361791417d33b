using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Access;
using Mulan.Audit;
using Mulan.Gateway.Catalog;
using Mulan.Governance.Currencies;
using Mulan.Knowledge;

namespace Mulan.Apps;

/// <summary>The outcome of a change to an app: done (with the app), or why not.</summary>
public abstract record AppChange
{
    public sealed record Done(App App) : AppChange;

    /// <summary>400: errors keyed by JSON path.</summary>
    public sealed record Invalid(Dictionary<string, string[]> Errors) : AppChange;

    /// <summary>404: something the definition names does not exist in the app's workspace.</summary>
    public sealed record Missing(string Detail, IReadOnlyList<string> Paths) : AppChange;

    /// <summary>409.</summary>
    public sealed record Conflict(string Detail) : AppChange;
}

/// <summary>
/// Apps' lifecycle: every change is a new immutable version; one version is published (and served as
/// <c>app:&lt;slug&gt;</c>); rolling back publishes an earlier one. References are checked against the app's workspace:
/// a knowledge base is named by id or name and stored by id, so renaming it does not break the app.
/// </summary>
public sealed class AppService(IAppStore store, AppDirectory directory, IKnowledgeStore knowledge, CatalogState catalog, ExchangeRates rates,
    Assistant.Tools.ToolCatalog tools, AuditLog audit, TimeProvider time)
{
    public async Task<AppChange> CreateAsync(Workspace workspace, AppDefinition definition, string actor, CancellationToken ct)
    {
        if (await ResolveAsync(workspace.Id, definition, ct) is not { } resolved)
        {
            return await ResolveProblemAsync(workspace.Id, definition, ct);
        }
        var now = time.GetUtcNow();
        var app = new App(Access.KeyMaterial.NewId("app"), workspace.Id, definition.Slug, definition.Name, definition.Kind, 1, null, now, now);
        if (!await store.CreateAsync(app, new AppVersion(app.Id, 1, Serialize(resolved), now, "created"), ct))
        {
            return new AppChange.Conflict($"The workspace has an app with slug '{definition.Slug}'.");
        }
        await audit.RecordAsync(AuditEntries.AppCreated(actor, app));
        return new AppChange.Done(app);
    }

    /// <summary>A new version from a changed definition; the published version stays until one is published.</summary>
    public async Task<AppChange> UpdateAsync(App app, AppDefinition definition, string? note, string actor, CancellationToken ct)
    {
        if (definition.Slug != app.Slug)
        {
            return new AppChange.Invalid(new() { ["$.slug"] = [$"an app keeps its slug ('{app.Slug}'): export and import it to copy it under another"] });
        }
        if (definition.Kind != app.Kind)
        {
            return new AppChange.Invalid(new() { ["$.kind"] = [$"an app keeps its kind ('{app.Kind}')"] });
        }
        if (await ResolveAsync(app.WorkspaceId, definition, ct) is not { } resolved)
        {
            return await ResolveProblemAsync(app.WorkspaceId, definition, ct);
        }
        var updated = await store.AddVersionAsync(app.Id, app.LatestVersion, definition.Name, Serialize(resolved), note, time.GetUtcNow(), ct);
        if (updated is null)
        {
            return new AppChange.Conflict("The app was changed at the same time; read it again and retry.");
        }
        await audit.RecordAsync(AuditEntries.AppUpdated(actor, updated, note));
        return new AppChange.Done(updated);
    }

    /// <param name="rollback">audited as a rollback (an earlier version published again).</param>
    public async Task<AppChange> PublishAsync(App app, int version, bool rollback, string actor, CancellationToken ct)
    {
        if (await store.VersionAsync(app.Id, version, ct) is not { } v)
        {
            return new AppChange.Missing($"The app has no version {version} (latest: {app.LatestVersion}).", ["version"]);
        }
        // What a version names may have gone since it was saved: it is served only while it still resolves.
        var definition = JsonSerializer.Deserialize<AppDefinition>(v.Definition, AppDefinition.Json)!;
        if (await ResolveAsync(app.WorkspaceId, definition, ct) is null)
        {
            return await ResolveProblemAsync(app.WorkspaceId, definition, ct);
        }
        var published = await store.SetPublishedAsync(app.Id, version, time.GetUtcNow(), ct);
        if (published is null)
        {
            return new AppChange.Missing($"The app '{app.Slug}' was deleted.", []);
        }
        await directory.RefreshAsync(published, ct);
        await audit.RecordAsync(AuditEntries.AppPublished(actor, rollback ? AuditActions.AppRolledBack : AuditActions.AppPublished, published,
            app.PublishedVersion));
        return new AppChange.Done(published);
    }

    public async Task<bool> DeleteAsync(App app, string actor, CancellationToken ct)
    {
        if (!await store.DeleteAsync(app.Id, ct))
        {
            return false;
        }
        directory.Remove(app.Id);
        await audit.RecordAsync(AuditEntries.AppDeleted(actor, app));
        return true;
    }

    /// <summary>An app by id, or by slug within the workspace (null: every workspace, when the slug is unique).</summary>
    public async Task<App?> FindAsync(string idOrSlug, string? workspaceId, CancellationToken ct)
    {
        var byId = await store.FindAsync(idOrSlug, ct);
        if (byId is not null)
        {
            return workspaceId is null || byId.WorkspaceId == workspaceId ? byId : null;
        }
        if (workspaceId is not null)
        {
            return await store.FindBySlugAsync(workspaceId, idOrSlug, ct);
        }
        var matches = (await store.ListAsync(null, ct)).Where(a => a.Slug == idOrSlug).Take(2).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    public async Task<AppDefinition?> DefinitionAsync(App app, int version, CancellationToken ct) =>
        await store.VersionAsync(app.Id, version, ct) is { } v ? JsonSerializer.Deserialize<AppDefinition>(v.Definition, AppDefinition.Json) : null;

    /// <summary>The definition with knowledge bases named by id, when everything it names exists for the workspace (else null).</summary>
    private async Task<AppDefinition?> ResolveAsync(string workspaceId, AppDefinition d, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (d.Model is { } model && !catalog.Current.Models.ContainsKey(model))
        {
            return null;
        }
        var ids = new List<string>();
        foreach (var name in d.KnowledgeBases ?? [])
        {
            if (await knowledge.FindKnowledgeBaseAsync(name, workspaceId, ct) is not { } kb)
            {
                return null;
            }
            if (!ids.Contains(kb.Id))
            {
                ids.Add(kb.Id);
            }
        }
        if (d.Tools is { Count: > 0 } && (await tools.MissingAsync(workspaceId, d.Tools, ct)).Count > 0)
        {
            return null;
        }
        if (d.Budget is { } budget)
        {
            AccessEndpoints.CheckChargeable(budget with { Currency = budget.Currency.ToUpperInvariant() },
                d.Model is { } m ? [catalog.Current.Models[m]] : [], rates, errors);
            if (errors.Count > 0)
            {
                return null;
            }
        }
        return d with
        {
            KnowledgeBases = d.KnowledgeBases is null ? null : ids,
            Budget = d.Budget is { } b ? b with { Currency = b.Currency.ToUpperInvariant() } : null,
        };
    }

    // The slow path, for the error only: says exactly what is missing.
    private async Task<AppChange> ResolveProblemAsync(string workspaceId, AppDefinition d, CancellationToken ct)
    {
        var missing = new List<string>();
        var paths = new List<string>();
        if (d.Model is { } model && !catalog.Current.Models.ContainsKey(model))
        {
            missing.Add($"no model route '{model}'");
            paths.Add("$.model");
        }
        for (var i = 0; i < (d.KnowledgeBases?.Count ?? 0); i++)
        {
            if (await knowledge.FindKnowledgeBaseAsync(d.KnowledgeBases![i], workspaceId, ct) is null)
            {
                missing.Add($"no knowledge base '{d.KnowledgeBases[i]}' in the app's workspace");
                paths.Add($"$.knowledgeBases[{i}]");
            }
        }
        if (d.Tools is { Count: > 0 })
        {
            var absent = await tools.MissingAsync(workspaceId, d.Tools, ct);
            for (var i = 0; i < d.Tools.Count; i++)
            {
                if (absent.Contains(d.Tools[i]))
                {
                    missing.Add($"no tool source '{d.Tools[i]}' in the app's workspace");
                    paths.Add($"$.tools[{i}]");
                }
            }
        }
        if (missing.Count > 0)
        {
            return new AppChange.Missing(string.Join("; ", missing), paths);
        }
        var errors = new Dictionary<string, string[]>();
        AccessEndpoints.CheckChargeable(d.Budget! with { Currency = d.Budget!.Currency.ToUpperInvariant() },
            d.Model is { } m ? [catalog.Current.Models[m]] : [], rates, errors);
        return new AppChange.Invalid(errors.ToDictionary(e => "$." + e.Key, e => e.Value));
    }

    public static string Serialize(AppDefinition d) => JsonSerializer.Serialize(d, AppDefinition.Json);

    /// <summary>What changed from one definition to another, by JSON path (arrays compared item by item).</summary>
    public static IReadOnlyList<(string Path, JsonNode? Before, JsonNode? After)> Diff(AppDefinition from, AppDefinition to)
    {
        var changes = new List<(string, JsonNode?, JsonNode?)>();
        Walk("$", JsonSerializer.SerializeToNode(from, AppDefinition.Json), JsonSerializer.SerializeToNode(to, AppDefinition.Json), changes);
        return changes;
    }

    private static void Walk(string path, JsonNode? a, JsonNode? b, List<(string, JsonNode?, JsonNode?)> changes)
    {
        switch (a, b)
        {
            case (JsonObject x, JsonObject y):
                foreach (var name in x.Select(p => p.Key).Union(y.Select(p => p.Key)).Distinct(StringComparer.Ordinal))
                {
                    Walk($"{path}.{name}", x[name], y[name], changes);
                }
                return;
            case (JsonArray x, JsonArray y):
                for (var i = 0; i < Math.Max(x.Count, y.Count); i++)
                {
                    Walk($"{path}[{i}]", i < x.Count ? x[i] : null, i < y.Count ? y[i] : null, changes);
                }
                return;
            default:
                if (!JsonNode.DeepEquals(a, b))
                {
                    changes.Add((path, a?.DeepClone(), b?.DeepClone()));
                }
                return;
        }
    }
}
