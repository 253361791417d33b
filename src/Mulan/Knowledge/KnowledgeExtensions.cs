using Microsoft.Extensions.Options;
using Mulan.Knowledge.Answering;
using Mulan.Hosting;
using Mulan.Knowledge.Demo;
using Mulan.Knowledge.Embedding;
using Mulan.Knowledge.Ingestion;
using Mulan.Knowledge.Ingestion.Parsing;
using Mulan.Knowledge.Lifecycle;
using Mulan.Knowledge.Retrieval;
using Mulan.Outbound;

namespace Mulan.Knowledge;

public static class KnowledgeExtensions
{
    public static IServiceCollection AddKnowledge(this IServiceCollection services)
    {
        services.AddOptions<KnowledgeOptions>().BindConfiguration(KnowledgeOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KnowledgeOptions>, KnowledgeOptionsValidator>();
        services.AddSingleton<DocumentFiles>();
        services.AddSingleton(_ => KnowledgeEngines.Detect());
        services.AddSingleton(sp => DocumentParsers.CreateDefault(sp.GetRequiredService<KnowledgeEngines>().Ocr));
        services.AddSingleton<KnowledgeIndex>();
        services.AddSingleton<KnowledgeSearch>();
        services.AddSingleton<LlmReranker>();
        services.AddSingleton<SelfAddress>();
        services.AddSingleton<SelfGateway>();
        services.AddSingleton<KnowledgeEmbedder>();
        services.AddSingleton<ReembeddingWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<ReembeddingWorker>());
        services.AddSingleton<ExtractiveAnswerer>();
        services.AddSingleton<GroundedAnswerer>();
        services.AddSingleton<IngestionSignal>();
        services.AddSingleton<KnowledgeBaseReferences>();
        services.AddSingleton<KnowledgeLifecycle>();
        services.AddSingleton<Access.IWorkspaceContents, WorkspaceKnowledge>();
        services.AddSingleton<IngestionService>();
        services.AddSingleton(sp => new GuardedHttpClient(sp.GetRequiredService<IOptions<OutboundOptions>>().Value));
        services.AddSingleton<DemoKnowledgeBase>();
        services.AddSingleton<Ingestion.MediaIngestion>();
        services.AddHostedService<IngestionWorker>();
        return services;
    }

    /// <summary>Loads every ready chunk into the in-process indexes (before the server takes requests).</summary>
    public static async Task InitializeKnowledgeAsync(this IServiceProvider services, CancellationToken ct)
    {
        _ = services.GetRequiredService<DocumentParsers>(); // detects OCR once, at start-up (the start-up summary says what it found)
        var store = services.GetRequiredService<IKnowledgeStore>();
        var index = services.GetRequiredService<KnowledgeIndex>();
        var titles = new Dictionary<string, string>(StringComparer.Ordinal);
        var knowledgeBases = await store.ListKnowledgeBasesAsync(null, ct);
        foreach (var kb in knowledgeBases)
        {
            foreach (var d in await store.ListDocumentsAsync(kb.Id, ct))
            {
                titles[d.Id] = d.Title;
            }
        }
        foreach (var group in (await store.LoadChunksAsync(ct)).GroupBy(c => c.DocumentId))
        {
            index.AddDocument(titles.GetValueOrDefault(group.Key, ""), [.. group]);
        }
        foreach (var kb in knowledgeBases)
        {
            foreach (var model in kb.VectorModels)
            {
                var vectors = new List<(long, float[])>();
                await foreach (var v in store.LoadVectorsAsync(kb.Id, model, ct))
                {
                    vectors.Add(v);
                }
                index.AddVectors(kb.Id, model, vectors);
            }
        }
        if (services.GetRequiredService<IOptions<KnowledgeOptions>>().Value.SeedDemo)
        {
            await services.GetRequiredService<DemoKnowledgeBase>().SeedOnceAsync(ct);
        }
    }
}
