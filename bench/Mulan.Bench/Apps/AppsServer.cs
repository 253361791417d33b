using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Ingestion;

namespace Mulan.Bench.Apps;

/// <summary>
/// One <c>mulan serve</c> set up as a user would over its API: a keyword-only knowledge base filled with the pooled
/// corpus as JSON <c>{title, text}</c> documents, and a published knowledge-qa app over it that answers with the
/// <c>chat-cite</c> route (the fake vendor's <c>fake-chat+cite</c>, which answers like a grounded model citing source 1).
/// </summary>
internal sealed class AppsServer
{
    public const string Route = "chat-cite";
    public const string Slug = "bench-qa";
    private const string KnowledgeBase = "bench-corpus";

    private AppsServer(ArmTarget mulan, string ledger, string knowledgeBaseId, int documents, int chunks, double ingestSeconds)
    {
        Mulan = mulan;
        Ledger = ledger;
        KnowledgeBaseId = knowledgeBaseId;
        Documents = documents;
        Chunks = chunks;
        IngestSeconds = ingestSeconds;
    }

    public ArmTarget Mulan { get; }

    /// <summary><c>Storage:LedgerSync</c> of this server: Full (the default) or Normal.</summary>
    public string Ledger { get; }

    public string KnowledgeBaseId { get; }

    public int Documents { get; }

    /// <summary>Chunks of the ready documents, summed from <c>GET /api/knowledge-bases/{id}/documents</c>.</summary>
    public int Chunks { get; }

    /// <summary>From the first upload to the last document ready.</summary>
    public double IngestSeconds { get; }

    public ChildProcess Process => Mulan.Process!;

    public static string Catalog(int vendorPort) => JsonSerializer.Serialize(new
    {
        providers = new[] { new { name = "fake", kind = "openai", baseUrl = $"http://127.0.0.1:{vendorPort}/v1", apiKey = FakeVendorArm.ApiKey } },
        models = new[]
        {
            new { name = Route, deployments = new[] { new { provider = "fake", model = "fake-chat+cite", price = new { currency = "USD", input = 0.15, output = 0.6 } } } },
        },
    }, new JsonSerializerOptions { WriteIndented = true });

    /// <param name="kind"><see cref="ArmKind.Mulan"/> (LedgerSync=Full) or <see cref="ArmKind.MulanNormalSync"/>.</param>
    public static async Task<AppsServer> StartAsync(string dll, ScratchDirectory scratch, string dataFolder, int vendorPort, ArmKind kind,
        IReadOnlyDictionary<string, string> environment, IReadOnlyList<CorpusDocument> corpus, Progress progress, CancellationToken ct)
    {
        var (target, skipped) = await MulanArm.StartAsync(dll, scratch, dataFolder, environment, vendorPort, ct, kind, Catalog(vendorPort));
        if (target is null)
        {
            throw new BenchException(skipped ?? "mulan did not start");
        }

        var ledger = kind == ArmKind.MulanNormalSync ? "Normal" : "Full";
        try
        {
            using var admin = new HttpClient { BaseAddress = new Uri(target.ChatUrl, "/"), Timeout = TimeSpan.FromSeconds(60) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MulanArm.AdminKey);
            var kb = await PostAsync(admin, "api/knowledge-bases", new { name = KnowledgeBase, embeddingModel = "none" }, ct);
            var kbId = kb["id"]!.GetValue<string>();
            var started = Stopwatch.GetTimestamp();
            progress.Say($"mulan (LedgerSync={ledger}): uploading {corpus.Count} documents");
            // A few uploads at a time: the queue, not the upload, is what takes the time.
            await Parallel.ForEachAsync(corpus, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (doc, token) =>
                await PostAsync(admin, $"api/knowledge-bases/{kbId}/documents", new { title = doc.FileName, text = System.Text.Encoding.UTF8.GetString(doc.Markdown()) }, token));
            var (documents, chunks) = await WaitReadyAsync(admin, kbId, corpus.Count, ct);
            var ingest = Stopwatch.GetElapsedTime(started).TotalSeconds;
            progress.Say($"mulan (LedgerSync={ledger}): {documents} documents ready, {chunks:N0} chunks, {ingest:0.0} s");
            var app = await PostAsync(admin, "api/apps", new { slug = Slug, name = "Bench QA", kind = "knowledge-qa", model = Route, knowledgeBases = new[] { KnowledgeBase } }, ct);
            await PostAsync(admin, $"api/apps/{app["id"]!.GetValue<string>()}/publish", new { }, ct);
            return new AppsServer(target, ledger, kbId, documents, chunks, ingest);
        }
        catch
        {
            await target.Process!.DisposeAsync();
            throw;
        }
    }

    /// <summary>The arms this server offers: the raw route, the knowledge-base search alone, and the app.</summary>
    public IReadOnlyList<AppsArm> Arms(IReadOnlyList<string> questions)
    {
        var origin = new Uri(Mulan.ChatUrl, "/");
        var key = Mulan.Authorization.Parameter!;
        var suffix = Ledger == "Full" ? "" : $" (LedgerSync={Ledger})";
        return
        [
            new AppsArm("route" + suffix, Mulan.ChatUrl, key, Chat(Route, questions, false), Chat(Route, questions, true), Process, Ledger),
            new AppsArm("search" + suffix, new Uri(origin, $"/api/knowledge-bases/{KnowledgeBaseId}/search"), key,
                [.. questions.Select(q => JsonSerializer.SerializeToUtf8Bytes(new { query = q, topK = 5 }))], null, Process, Ledger),
            new AppsArm("app" + suffix, Mulan.ChatUrl, key, Chat("app:" + Slug, questions, false), Chat("app:" + Slug, questions, true), Process, Ledger),
        ];
    }

    /// <summary>One OpenAI chat body per question, serialized once.</summary>
    public static IReadOnlyList<byte[]> Chat(string model, IReadOnlyList<string> questions, bool stream) =>
        [.. questions.Select(q => stream
            ? JsonSerializer.SerializeToUtf8Bytes(new { model, stream = true, messages = new[] { new { role = "user", content = q } } })
            : JsonSerializer.SerializeToUtf8Bytes(new { model, messages = new[] { new { role = "user", content = q } } }))];

    internal static async Task<JsonObject> PostAsync(HttpClient http, string path, object body, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(path, body, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new BenchException($"POST /{path} answered {(int)response.StatusCode}: {(text.Length > 300 ? text[..300] : text)}");
        }

        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Polls until every document is ready (a failed one stops the run: its chunks would be missing).</summary>
    internal static async Task<(int Documents, int Chunks)> WaitReadyAsync(HttpClient http, string kbId, int expected, CancellationToken ct)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(300 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var failed = await CountAsync(http, kbId, "failed", ct);
            if (failed > 0)
            {
                throw new BenchException($"{failed} documents failed to ingest into {kbId}");
            }

            if (await CountAsync(http, kbId, "ready", ct) >= expected)
            {
                var chunks = 0;
                for (var page = 1; ; page++)
                {
                    var listed = await http.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kbId}/documents?status=ready&pageSize=1000&page={page}", ct);
                    var documents = listed!["documents"]!.AsArray();
                    chunks += documents.Sum(d => d!["chunks"]!.GetValue<int>());
                    if (documents.Count < 1000)
                    {
                        return (expected, chunks);
                    }
                }
            }

            await Task.Delay(250, ct);
        }

        throw new BenchException($"the documents of {kbId} were not ready within 300 s");
    }

    private static async Task<int> CountAsync(HttpClient http, string kbId, string status, CancellationToken ct) =>
        (await http.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kbId}/documents?status={status}&pageSize=1", ct))!["count"]!.GetValue<int>();
}
