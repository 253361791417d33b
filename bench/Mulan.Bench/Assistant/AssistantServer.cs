using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mulan.Bench.Apps;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Ingestion;

namespace Mulan.Bench.Assistant;

/// <summary>
/// One <c>mulan serve</c> (LedgerSync=Full, the default) set up over its API as a user would: a keyword-only knowledge
/// base filled with the pooled corpus, a route <c>agent</c> → the fake vendor's <c>fake-chat+agent</c> (it obeys every
/// <c>CALL name {json}</c> in the last message, else answers <c>DONE: …</c>), and a published assistant app over both,
/// which gives its runs the built-in <c>knowledge_search</c> tool.
/// </summary>
internal sealed class AssistantServer
{
    public const string Route = "agent";
    public const string Slug = "bench-assistant";
    private const string KnowledgeBase = "bench-corpus";

    private AssistantServer(ArmTarget mulan, string appId, string knowledgeBaseId, int documents, int chunks, double ingestSeconds)
    {
        Mulan = mulan;
        AppId = appId;
        KnowledgeBaseId = knowledgeBaseId;
        Documents = documents;
        Chunks = chunks;
        IngestSeconds = ingestSeconds;
    }

    /// <summary>The server; its <see cref="ArmTarget.Authorization"/> is a virtual key for the reference calls.</summary>
    public ArmTarget Mulan { get; }

    public Uri Origin => new(Mulan.ChatUrl, "/");

    public string AppId { get; }

    public string KnowledgeBaseId { get; }

    public int Documents { get; }

    public int Chunks { get; }

    public double IngestSeconds { get; }

    public ChildProcess Process => Mulan.Process!;

    private static string Catalog(int vendorPort) => JsonSerializer.Serialize(new
    {
        providers = new[] { new { name = "fake", kind = "openai", baseUrl = $"http://127.0.0.1:{vendorPort}/v1", apiKey = FakeVendorArm.ApiKey } },
        models = new[]
        {
            new { name = Route, deployments = new[] { new { provider = "fake", model = "fake-chat+agent", price = new { currency = "USD", input = 1.0, output = 2.0 } } } },
        },
    }, new JsonSerializerOptions { WriteIndented = true });

    public static async Task<AssistantServer> StartAsync(string dll, ScratchDirectory scratch, string dataFolder, int vendorPort,
        IReadOnlyList<CorpusDocument> corpus, Progress progress, CancellationToken ct)
    {
        // The model obeys any "CALL" in a tool result; one in a passage would add steps the figures do not expect.
        if (corpus.FirstOrDefault(d => Encoding.UTF8.GetString(d.Markdown()).Contains("CALL", StringComparison.Ordinal)) is { } hostile)
        {
            throw new BenchException($"corpus document {hostile.FileName} contains \"CALL\": the fake agent model would obey it");
        }

        var (target, skipped) = await MulanArm.StartAsync(dll, scratch, dataFolder, new Dictionary<string, string>(), vendorPort, ct, ArmKind.Mulan,
            Catalog(vendorPort));
        if (target is null)
        {
            throw new BenchException(skipped ?? "mulan did not start");
        }

        try
        {
            using var admin = new HttpClient { BaseAddress = new Uri(target.ChatUrl, "/"), Timeout = TimeSpan.FromSeconds(60) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MulanArm.AdminKey);
            var kb = await AppsServer.PostAsync(admin, "api/knowledge-bases", new { name = KnowledgeBase, embeddingModel = "none" }, ct);
            var kbId = kb["id"]!.GetValue<string>();
            var started = Stopwatch.GetTimestamp();
            progress.Say($"mulan: uploading {corpus.Count} documents");
            await Parallel.ForEachAsync(corpus, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (doc, token) =>
                await AppsServer.PostAsync(admin, $"api/knowledge-bases/{kbId}/documents", new { title = doc.FileName, text = Encoding.UTF8.GetString(doc.Markdown()) }, token));
            var (documents, chunks) = await AppsServer.WaitReadyAsync(admin, kbId, corpus.Count, ct);
            var ingest = Stopwatch.GetElapsedTime(started).TotalSeconds;
            progress.Say($"mulan: {documents} documents ready, {chunks:N0} chunks, {ingest:0.0} s");
            // maxSteps above the default 20 only so that K = 16 (18 steps) never meets the limit by accident.
            var app = await AppsServer.PostAsync(admin, "api/apps", new
            {
                slug = Slug, name = "Bench assistant", kind = "assistant", model = Route, knowledgeBases = new[] { KnowledgeBase },
                instructions = "You answer questions about the corpus.", assistant = new { maxSteps = 40 },
            }, ct);
            var appId = app["id"]!.GetValue<string>();
            await AppsServer.PostAsync(admin, $"api/apps/{appId}/publish", new { }, ct);
            return new AssistantServer(target, appId, kbId, documents, chunks, ingest);
        }
        catch
        {
            await target.Process!.DisposeAsync();
            throw;
        }
    }
}
