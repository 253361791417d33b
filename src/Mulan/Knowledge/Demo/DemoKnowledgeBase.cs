using System.Reflection;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Knowledge.Embedding;
using Mulan.Knowledge.Ingestion;

namespace Mulan.Knowledge.Demo;

/// <summary>
/// On the very first start, a "demo" workspace with a small bilingual handbook of a fictional company, so a
/// fresh machine can try <c>mulan kb ask handbook "..."</c> offline at once. Seeded once; deleting it is final.
/// </summary>
public sealed class DemoKnowledgeBase(IAccessStore access, IKnowledgeStore store, IngestionService ingestion, IOptions<KnowledgeOptions> options, TimeProvider time)
{
    public const string WorkspaceName = "demo";
    public const string KnowledgeBaseName = "handbook";
    private const string SeededSetting = "demo_seeded";

    public async Task SeedOnceAsync(CancellationToken ct)
    {
        if (await access.GetSettingAsync(SeededSetting, ct) is not null)
        {
            return;
        }
        var workspace = await access.FindWorkspaceAsync(WorkspaceName, ct);
        if (workspace is null)
        {
            workspace = new Workspace(KeyMaterial.NewId("ws"), WorkspaceName, time.GetUtcNow());
            await access.TryCreateWorkspaceAsync(workspace, ct);
        }
        var kb = new KnowledgeBase(KeyMaterial.NewId("kb"), workspace.Id, KnowledgeBaseName,
            "Demo: the handbook of a fictional company, in Simplified Chinese, Traditional Chinese and English.", time.GetUtcNow(),
            // Offline on a fresh machine: the bundled encoder if it is the default, else keyword search only.
            options.Value.DefaultEmbeddingModel == KnowledgeEmbedder.LocalModel ? KnowledgeEmbedder.LocalModel : null);
        if (await store.TryCreateKnowledgeBaseAsync(kb, ct))
        {
            var assembly = typeof(DemoKnowledgeBase).Assembly;
            foreach (var name in assembly.GetManifestResourceNames().Where(n => n.Contains(".Demo.", StringComparison.Ordinal) && n.EndsWith(".md", StringComparison.Ordinal)).Order())
            {
                await using var content = assembly.GetManifestResourceStream(name)!;
                var file = name[(name.IndexOf(".Demo.", StringComparison.Ordinal) + 6)..];
                await ingestion.AddAsync(kb, file, file, "text/markdown", content, ct);
            }
        }
        await access.SetSettingAsync(SeededSetting, time.GetUtcNow().ToString("O"), ct);
    }
}
