using Mulan.Knowledge;
using Mulan.Knowledge.Ingestion;

namespace Mulan.Apps.Packages;

/// <summary>
/// Gathers what a package of an app holds, from storage: the version's definition with its knowledge bases named (a
/// stored definition names them by id, which means nothing in another installation), their ready documents' original
/// files, and the corrections given as feedback. Keys, usage and conversations are never read.
/// </summary>
public sealed class PackageExporter(AppService apps, IAppStore store, IKnowledgeStore knowledge, DocumentFiles files, TimeProvider time)
{
    /// <returns>null when the app has no such version.</returns>
    public async Task<PackageContents?> ExportAsync(App app, int version, bool documents, bool evaluation, CancellationToken ct)
    {
        if (await apps.DefinitionAsync(app, version, ct) is not { } definition)
        {
            return null;
        }
        var named = new List<string>();
        var bases = new List<PackageKnowledgeBase>();
        foreach (var id in definition.KnowledgeBases ?? [])
        {
            // Deleted since: the id stays, and importing asks for it to be mapped.
            var kb = await knowledge.FindKnowledgeBaseAsync(id, app.WorkspaceId, ct);
            named.Add(kb?.Name ?? id);
            if (documents && kb is not null)
            {
                bases.Add(new PackageKnowledgeBase(kb.Name, await DocumentsAsync(kb, ct)));
            }
        }
        var items = evaluation ? await EvaluationAsync(app, ct) : null;
        return new PackageContents(definition with { KnowledgeBases = definition.KnowledgeBases is null ? null : named }, version, time.GetUtcNow(),
            documents ? bases : null, items);
    }

    /// <summary>The ready documents, oldest first, with the bytes they were uploaded as.</summary>
    private async Task<List<PackageDocument>> DocumentsAsync(KnowledgeBase kb, CancellationToken ct)
    {
        var result = new List<PackageDocument>();
        foreach (var d in (await knowledge.ListDocumentsAsync(kb.Id, ct)).Where(d => d.Status == DocumentStatus.Ready).OrderBy(d => d.CreatedAt))
        {
            using var content = new MemoryStream();
            await using (var file = files.Open(d.Id))
            {
                await file.CopyToAsync(content, ct);
            }
            result.Add(new PackageDocument(d.Title, d.Source, d.OriginKey, d.MediaType ?? "application/octet-stream", content.ToArray()));
        }
        return result;
    }

    private async Task<List<EvaluationItem>> EvaluationAsync(App app, CancellationToken ct) =>
        [.. (await store.FeedbackAsync(app.WorkspaceId, app.Id, null, PackageLimits.Default.MaxEvaluationItems, ct))
            .Where(f => !string.IsNullOrWhiteSpace(f.Correction))
            .Select(f => new EvaluationItem(f.Question, f.Correction!, "feedback", f.RequestId))];
}
