using System.Collections.Concurrent;
using System.Text.Json;
using Mulan.Access;
using Mulan.Governance.Pii;

namespace Mulan.Apps;

/// <summary>A published app as the gateway serves it: the version, its definition and what it was compiled to.</summary>
/// <param name="Pii">the app's PII rules for what end users type (null: none).</param>
public sealed record PublishedApp(App App, int Version, AppDefinition Definition, PiiPolicy? Pii)
{
    public string ModelName => Gateway.IAppModels.Prefix + App.Slug;
}

/// <summary>
/// The published apps, in memory, by workspace and slug: an <c>app:&lt;slug&gt;</c> request looks its app up without
/// touching storage. Refreshed by every change made through <see cref="AppService"/>, and loaded at start.
/// </summary>
public sealed class AppDirectory(IAppStore store)
{
    private readonly ConcurrentDictionary<(string Workspace, string Slug), PublishedApp> _bySlug = new();

    public PublishedApp? Find(string workspaceId, string slug) => _bySlug.GetValueOrDefault((workspaceId, slug));

    public IEnumerable<PublishedApp> All => _bySlug.Values;

    public IEnumerable<PublishedApp> InWorkspace(string workspaceId) =>
        _bySlug.Where(p => p.Key.Workspace == workspaceId).Select(p => p.Value).OrderBy(p => p.App.Slug, StringComparer.Ordinal);

    public async Task LoadAsync(CancellationToken ct)
    {
        foreach (var app in await store.ListAsync(null, ct))
        {
            await RefreshAsync(app, ct);
        }
    }

    /// <summary>Puts the app's published version in (or takes the app out when none is published, or it is gone).</summary>
    public async Task RefreshAsync(App app, CancellationToken ct)
    {
        foreach (var stale in _bySlug.Where(p => p.Value.App.Id == app.Id).Select(p => p.Key).ToList())
        {
            _bySlug.TryRemove(stale, out _);
        }
        if (app.PublishedVersion is not { } v || await store.VersionAsync(app.Id, v, ct) is not { } version)
        {
            return;
        }
        var definition = JsonSerializer.Deserialize<AppDefinition>(version.Definition, AppDefinition.Json)!;
        _bySlug[(app.WorkspaceId, app.Slug)] = new PublishedApp(app, v, definition, Compile(definition));
    }

    /// <summary>Any stored version of the app, compiled as the gateway would serve it (to try a version before publishing it).</summary>
    public async Task<PublishedApp?> VersionAsync(App app, int version, CancellationToken ct)
    {
        if (await store.VersionAsync(app.Id, version, ct) is not { } stored)
        {
            return null;
        }
        var definition = JsonSerializer.Deserialize<AppDefinition>(stored.Definition, AppDefinition.Json)!;
        return new PublishedApp(app, version, definition, Compile(definition));
    }

    public void Remove(string appId)
    {
        foreach (var key in _bySlug.Where(p => p.Value.App.Id == appId).Select(p => p.Key).ToList())
        {
            _bySlug.TryRemove(key, out _);
        }
    }

    private static PiiPolicy? Compile(AppDefinition d) =>
        d.Guardrails is { Pii.Count: > 0 } g ? new PiiSettings(g.Pii, g.PiiPatterns ?? []).Compile() : null;
}
