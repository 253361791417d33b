using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Audit;
using Mulan.Gateway.Catalog;
using Mulan.Knowledge;
using Mulan.Knowledge.Ingestion;
using Mulan.Knowledge.Lifecycle;

namespace Mulan.Apps.Packages;

/// <summary>The outcome of an import.</summary>
public abstract record PackageImport
{
    /// <param name="KnowledgeBases">what the app uses: each created from the package (with its queued documents) or an existing one.</param>
    public sealed record Done(App App, AppDefinition Definition, IReadOnlyList<ImportedKnowledgeBase> KnowledgeBases, int EvaluationItems) : PackageImport;

    /// <summary>422: routes or knowledge bases the workspace lacks and no mapping supplies, or mappings that do not fit.</summary>
    public sealed record Unmapped(IReadOnlyList<string> Models, IReadOnlyList<string> KnowledgeBases, IReadOnlyList<string> Problems) : PackageImport;

    /// <summary>400: the definition as it would be imported is not valid (e.g. a slug given with the import).</summary>
    public sealed record Invalid(Dictionary<string, string[]> Errors) : PackageImport;

    /// <summary>409.</summary>
    public sealed record Conflict(string Detail) : PackageImport;
}

/// <param name="Documents">the documents queued from the package (empty for an existing knowledge base).</param>
public sealed record ImportedKnowledgeBase(string Id, string Name, string PackageName, bool Created, IReadOnlyList<QueuedVersion> Documents);

/// <summary>
/// Creates the app a package holds in a workspace. Everything is checked before anything is created: the routes and
/// knowledge bases it names (mapped or found in the workspace), the slug, the documents against the file limit; only
/// then are the knowledge bases created, their documents queued and the app created, as version 1, unpublished.
/// </summary>
public sealed class PackageImporter(AppService apps, IAppStore store, IKnowledgeStore knowledge, KnowledgeLifecycle lifecycle, IngestionService ingestion,
    CatalogState catalog, IOptions<KnowledgeOptions> options, AuditLog audit, TimeProvider time)
{
    public async Task<PackageImport> ImportAsync(PackageContents package, Workspace workspace, string? slug, IReadOnlyDictionary<string, string> mapModel,
        IReadOnlyDictionary<string, string> mapKnowledgeBase, string actor, CancellationToken ct)
    {
        var definition = package.Definition;
        if (slug is not null)
        {
            var errors = new Dictionary<string, string[]>();
            var renamed = AppDefinitionReader.Read(System.Text.Json.JsonSerializer.SerializeToNode(definition with { Slug = slug }, AppDefinition.Json)!.AsObject(), errors);
            if (renamed is null)
            {
                return new PackageImport.Invalid(errors.ToDictionary(e => e.Key == "$.slug" ? "slug" : e.Key, e => e.Value));
            }
            definition = renamed;
        }
        // First, as nothing else matters while it holds: mapping would not make the slug free.
        if (await store.FindBySlugAsync(workspace.Id, definition.Slug, ct) is not null)
        {
            return new PackageImport.Conflict($"The workspace has an app with slug '{definition.Slug}': import it under another (?slug=).");
        }
        var unmappedModels = new List<string>();
        var unmappedBases = new List<string>();
        var problems = new List<string>();
        problems.AddRange(mapModel.Keys.Where(m => m != definition.Model).Select(m => $"mapModel: the package names no route '{m}'"));
        problems.AddRange(mapKnowledgeBase.Keys.Where(k => definition.KnowledgeBases?.Contains(k, StringComparer.Ordinal) != true)
            .Select(k => $"mapKnowledgeBase: the package names no knowledge base '{k}'"));

        var model = definition.Model;
        if (model is not null)
        {
            if (mapModel.TryGetValue(model, out var target))
            {
                if (!catalog.Current.Models.ContainsKey(target))
                {
                    problems.Add($"mapModel: there is no route '{target}' to map '{model}' to");
                }
                model = target;
            }
            else if (!catalog.Current.Models.ContainsKey(model))
            {
                unmappedModels.Add(model);
            }
        }

        // Per knowledge base the app names: an existing one of the workspace (mapped, or of the same name when the package
        // brings no documents for it), or one to create from the package's documents.
        var packaged = (package.KnowledgeBases ?? []).ToDictionary(k => k.Name, StringComparer.Ordinal);
        var plan = new List<(string PackageName, KnowledgeBase? Existing, PackageKnowledgeBase? Create)>();
        foreach (var name in definition.KnowledgeBases ?? [])
        {
            var existing = await knowledge.FindKnowledgeBaseAsync(mapKnowledgeBase.GetValueOrDefault(name, name), workspace.Id, ct);
            if (mapKnowledgeBase.TryGetValue(name, out var target))
            {
                if (existing is null)
                {
                    problems.Add($"mapKnowledgeBase: the workspace has no knowledge base '{target}' to map '{name}' to");
                }
                plan.Add((name, existing, null));
            }
            else if (packaged.TryGetValue(name, out var documents))
            {
                if (existing is not null)
                {
                    problems.Add($"the workspace already has a knowledge base '{name}': map it (mapKnowledgeBase={name}:{name} uses it as it is) or to another");
                }
                var limit = options.Value.MaxFileBytes;
                problems.AddRange(documents.Documents.Where(d => d.Content.Length > limit)
                    .Select(d => $"knowledge base '{name}': '{d.Origin}' is larger than the {limit} bytes a document may have"));
                plan.Add((name, null, documents));
            }
            else if (existing is null)
            {
                unmappedBases.Add(name);
            }
            else
            {
                plan.Add((name, existing, null));
            }
        }
        if (unmappedModels.Count > 0 || unmappedBases.Count > 0 || problems.Count > 0)
        {
            return new PackageImport.Unmapped(unmappedModels, unmappedBases, problems);
        }

        var created = new List<(KnowledgeBase Kb, PackageKnowledgeBase From)>();
        var used = new List<ImportedKnowledgeBase>();
        try
        {
            foreach (var (packageName, existing, create) in plan)
            {
                if (existing is not null)
                {
                    used.Add(new ImportedKnowledgeBase(existing.Id, existing.Name, packageName, false, []));
                    continue;
                }
                var kb = await CreateKnowledgeBaseAsync(workspace, packageName, definition.Slug, actor, ct);
                if (kb is null)
                {
                    return await UndoAsync(created, new PackageImport.Conflict($"A knowledge base named '{packageName}' was created in the workspace meanwhile."), actor, ct);
                }
                created.Add((kb, create!));
                used.Add(new ImportedKnowledgeBase(kb.Id, kb.Name, packageName, true, []));
            }
            var final = definition with { Model = model, KnowledgeBases = definition.KnowledgeBases is null ? null : [.. used.Select(u => u.Id)] };
            switch (await apps.CreateAsync(workspace, final, actor, ct))
            {
                case AppChange.Done done:
                    // The app exists: only now are documents queued, so a refused app leaves no ingestion work behind.
                    var queued = new List<ImportedKnowledgeBase>();
                    foreach (var u in used)
                    {
                        var from = created.FirstOrDefault(c => c.Kb.Id == u.Id);
                        queued.Add(from.Kb is null ? u : u with { Documents = await QueueAsync(from.Kb, from.From, ct) });
                    }
                    return new PackageImport.Done(done.App, final, queued, package.Evaluation?.Count ?? 0);
                case AppChange.Invalid invalid:
                    return await UndoAsync(created, new PackageImport.Invalid(invalid.Errors), actor, ct);
                case AppChange.Conflict conflict:
                    return await UndoAsync(created, new PackageImport.Conflict(conflict.Detail), actor, ct);
                case AppChange.Missing missing:
                    return await UndoAsync(created, new PackageImport.Unmapped([], [], [missing.Detail]), actor, ct);
                default:
                    throw new InvalidOperationException("Unknown outcome of creating an app.");
            }
        }
        catch
        {
            await UndoAsync(created, null, actor, CancellationToken.None);
            throw;
        }
    }

    private async Task<KnowledgeBase?> CreateKnowledgeBaseAsync(Workspace workspace, string name, string slug, string actor, CancellationToken ct)
    {
        // As POST /api/knowledge-bases without an embedding model: the server's default, where "none" means keyword search only.
        var model = options.Value.DefaultEmbeddingModel;
        var kb = new KnowledgeBase(KeyMaterial.NewId("kb"), workspace.Id, name, $"Imported with the app '{slug}'.", time.GetUtcNow(),
            model == "none" ? null : model);
        if (!await knowledge.TryCreateKnowledgeBaseAsync(kb, ct))
        {
            return null;
        }
        await audit.RecordAsync(AuditEntries.KnowledgeBaseCreated(actor, kb));
        return kb;
    }

    private async Task<List<QueuedVersion>> QueueAsync(KnowledgeBase kb, PackageKnowledgeBase from, CancellationToken ct)
    {
        var queued = new List<QueuedVersion>();
        foreach (var d in from.Documents)
        {
            using var content = new MemoryStream(d.Content.ToArray(), writable: false);
            // Sizes were checked against the same limit before anything was created.
            queued.Add(await ingestion.AddAsync(kb, d.Source, d.Title, d.MediaType, content, ct, d.Origin)
                ?? throw new InvalidOperationException($"'{d.Origin}' is larger than the file limit."));
        }
        return queued;
    }

    /// <summary>Takes back the knowledge bases this import created, when the app could not be created after all.</summary>
    private async Task<PackageImport> UndoAsync(List<(KnowledgeBase Kb, PackageKnowledgeBase From)> created, PackageImport? outcome, string actor, CancellationToken ct)
    {
        foreach (var (kb, _) in created)
        {
            var deletion = await lifecycle.DeleteKnowledgeBaseAsync(kb, force: true, ct);
            await audit.RecordAsync(AuditEntries.KnowledgeBaseDeleted(actor, kb, deletion.Documents, force: true));
        }
        created.Clear();
        return outcome!;
    }
}
