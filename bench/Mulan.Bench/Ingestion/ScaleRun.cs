using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Mulan.Bench.Hosting;
using Mulan.Knowledge;
using Mulan.Knowledge.Chunking;
using Mulan.Knowledge.Embedding;
using Mulan.Knowledge.Embedding.Local;
using Mulan.Knowledge.Ingestion;
using Mulan.Knowledge.Ingestion.Parsing;
using Mulan.Knowledge.Retrieval;
using Mulan.Storage;

namespace Mulan.Bench.Ingestion;

/// <summary>What the embed stage runs on at a scale: nothing, a sample of its documents, or all of them.</summary>
internal enum EmbedMode { None, Sample, Full }

/// <summary>A document after the chunk stage: what the worker stores and what it indexes and embeds.</summary>
internal sealed record ChunkedDocument(string Title, List<(string Text, string? Section, int? Page)> Rows, List<string> Texts);

/// <param name="KeywordIndexMegabytes">managed heap the keyword-only <see cref="KnowledgeIndex"/> holds once built
/// (postings and the chunks' text), measured by dropping it.</param>
/// <param name="VectorIndexMegabytes">managed heap the vector index of the same chunks adds.</param>
/// <param name="StorageRetries">storage calls that failed (SQLite busy, I/O) and were retried after the worker's pause.</param>
/// <param name="SetupRetries">the same in the untimed upload before the stages.</param>
internal sealed record ScaleResult(
    int Scale,
    int Documents,
    long Bytes,
    int Chunks,
    IReadOnlyList<StageResult> KeywordOnly,
    IReadOnlyList<StageResult> WithEmbeddings,
    double PeakResidentMegabytes,
    double LiveHeapMegabytes,
    double KeywordIndexMegabytes,
    double VectorIndexMegabytes,
    double KeywordDatabaseMegabytes,
    double VectorDatabaseMegabytes,
    int StorageRetries,
    int SetupRetries);

/// <summary>
/// One scale of the corpus through every stage, in the server's order (parse, chunk, embed, store, index), each
/// stage over the whole corpus before the next begins so that each has its own time. Each stage does per document
/// what <see cref="IngestionWorker"/> does, with <see cref="Stage.Workers"/> workers.
/// </summary>
internal sealed class ScaleRun(IngestionCorpus corpus, string dataParent, LocalSentenceEncoder? encoder, Progress progress)
{
    private const string MarkdownType = "text/markdown";
    private static readonly KnowledgeOptions Knowledge = new();

    private readonly DocumentParsers _parsers = DocumentParsers.CreateDefault(ocr: null);
    private readonly ParseLimits _limits = new() { MaxInputBytes = Knowledge.MaxFileBytes };
    private readonly StrongBox<int> _storageRetries = new();
    private readonly StrongBox<int> _setupRetries = new();

    /// <summary>The embed stage as last measured (a sample, or a whole scale), to project larger scales from.</summary>
    public StageResult? EmbedRate { get; set; }

    /// <summary>True when the embedded vectors look like a stand-in's (one non-zero component each).</summary>
    public bool PlaceholderEncoder { get; private set; }

    public async Task<ScaleResult> RunAsync(int scale, EmbedMode embed, int embedSample, CancellationToken ct)
    {
        // The previous scale's garbage would otherwise count towards this one's peak.
        ProcessMemory.LiveHeapMegabytes();
        ProcessMemory.ResetPeak();
        var folder = Path.Combine(dataParent, $"mulan-ingestion-x{scale}-{Guid.NewGuid():N}");
        try
        {
            return await RunInAsync(folder, scale, embed, embedSample, ct);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private async Task<ScaleResult> RunInAsync(string folder, int scale, EmbedMode embed, int embedSample, CancellationToken ct)
    {
        var documents = corpus.Documents(scale);
        var n = documents.Count;
        var retriesBefore = _storageRetries.Value;
        var setupRetriesBefore = _setupRetries.Value;
        progress.Say(Invariant($"×{scale}: {n:N0} documents: upload (not timed)"));
        var files = new DocumentFiles(Options.Create(new StorageOptions { DataDirectory = Path.Combine(folder, "upload") }));
        var uploaded = new UploadedFile[n];
        await Stage.MeasureAsync("upload", n, 0, 0, async (i, token) =>
        {
            var id = Invariant($"doc_{i + 1:000000}");
            await using var content = new MemoryStream(documents[i].Markdown(), writable: false);
            var (size, sha) = await Stage.WithRetriesAsync(
                () =>
                {
                    content.Position = 0;
                    return files.SaveAsync(id, content, Knowledge.MaxFileBytes, token);
                },
                _setupRetries, token) ?? throw new InvalidOperationException($"{id} is over the size limit");
            uploaded[i] = new UploadedFile(id, documents[i].FileName, documents[i].Title, MarkdownType, size, sha);
        }, ct);
        var bytes = uploaded.Sum(f => f.Size);

        await using var keywordStore = await BenchStore.CreateAsync(Path.Combine(folder, "keyword"), embeddingModel: null, ct);
        await keywordStore.AddDocumentsAsync(uploaded, _setupRetries, ct);
        var vectorStore = encoder is null ? null : await BenchStore.CreateAsync(Path.Combine(folder, "vectors"), LocalSentenceEncoder.ModelName, ct);
        if (vectorStore is not null)
        {
            await vectorStore.AddDocumentsAsync(uploaded, _setupRetries, ct);
        }

        await Stage.SettleAsync(ct);
        progress.Say(Invariant($"×{scale}: parse"));
        var parsed = new ParsedDocument[n];
        var parse = await Stage.Measure("parse", n, bytes, 0, i =>
        {
            using var content = files.Open(uploaded[i].Id);
            parsed[i] = _parsers.Parse(content, uploaded[i].FileName, MarkdownType, _limits, ct);
        }, ct);

        progress.Say(Invariant($"×{scale}: chunk"));
        var chunked = new ChunkedDocument[n];
        var chunk = await Stage.Measure("chunk", n, bytes, 0, i => chunked[i] = Chunk(parsed[i], uploaded[i].Title), ct);
        Array.Clear(parsed);
        var chunks = chunked.Sum(c => c.Rows.Count);
        parse = parse with { Chunks = chunks };
        chunk = chunk with { Chunks = chunks };

        var vectors = new float[n][][];
        StageResult? embedStage = null;
        if (encoder is not null && embed != EmbedMode.None)
        {
            var picked = embed == EmbedMode.Full ? [.. Enumerable.Range(0, n)] : IngestionCorpus.Sample([.. chunked.Select(c => c.Rows.Count)], embedSample);
            progress.Say(Invariant($"×{scale}: embed {picked.Sum(i => chunked[i].Rows.Count):N0} chunks of {picked.Count:N0} documents"));
            var measured = await Stage.Measure(
                "embed", picked.Count, picked.Sum(i => uploaded[i].Size), picked.Sum(i => chunked[i].Rows.Count),
                p => vectors[picked[p]] = Embed(encoder, chunked[picked[p]].Texts), ct);
            PlaceholderEncoder = picked.All(i => vectors[i].All(v => v.Count(x => x != 0) == 1));
            EmbedRate = measured;
            embedStage = embed == EmbedMode.Full ? measured with { Stage = "embed" } : null;
        }

        List<StageResult> withEmbeddings = [];
        double vectorIndexMegabytes = double.NaN;
        double vectorDatabaseMegabytes = double.NaN;
        if (vectorStore is not null)
        {
            embedStage ??= EmbedRate?.ProjectTo("embed", n, bytes, chunks);
            // Stored and indexed vectors cost the same whatever their values: chunks the encoder did not see get
            // stand-ins of its dimensions, so this store and index run at full scale.
            var standIns = StandIns(encoder!.Dimensions);
            for (var i = 0; i < n; i++)
            {
                vectors[i] ??= [.. Enumerable.Range(0, chunked[i].Rows.Count).Select(c => standIns[(i + c) % standIns.Length])];
            }

            progress.Say(Invariant($"×{scale}: store with vectors"));
            var stored = new IReadOnlyList<StoredChunk>[n];
            var model = LocalSentenceEncoder.ModelName;
            await Stage.SettleAsync(ct);
            var vectorStoreStage = await Stage.MeasureAsync("store", n, bytes, chunks, async (i, token) =>
                stored[i] = await Stage.WithRetriesAsync(
                    () => vectorStore.Store.CompleteAsync(uploaded[i].Id, chunked[i].Title, chunked[i].Rows,
                        new Dictionary<string, float[][]> { [model] = vectors[i] }, DateTimeOffset.UtcNow, token),
                    _storageRetries, token)
                    ?? throw new InvalidOperationException("the store refused the vectors"), ct);
            progress.Say(Invariant($"×{scale}: keyword and vector index"));
            KnowledgeIndex? index = new();
            var vectorIndexStage = await Stage.Measure("keyword + vector index", n, bytes, chunks,
                i => index!.AddDocument(chunked[i].Title, stored[i], new Dictionary<string, float[][]> { [model] = vectors[i] }), ct);
            Array.Clear(vectors);
            Array.Clear(stored);
            var withVectors = ProcessMemory.LiveHeapMegabytes();
            index.RetainVectors(vectorStore.KnowledgeBase.Id, []);
            vectorIndexMegabytes = withVectors - ProcessMemory.LiveHeapMegabytes();
            // The lambdas above keep their captured variables alive until this method returns: let go of it by hand.
            index = null;
            vectorDatabaseMegabytes = vectorStore.Megabytes;
            withEmbeddings = [vectorStoreStage, vectorIndexStage];
            await vectorStore.DisposeAsync();
        }

        progress.Say(Invariant($"×{scale}: keyword-only: claim, store, index"));
        await Stage.SettleAsync(ct);
        var claim = await Stage.MeasureAsync("claim", n, bytes, chunks, async (_, token) =>
        {
            var document = await Stage.WithRetriesAsync(() => keywordStore.Store.ClaimNextAsync(DateTimeOffset.UtcNow, token), _storageRetries, token)
                ?? throw new InvalidOperationException("the queue ran dry");
            await Stage.WithRetriesAsync(() => keywordStore.Store.FindKnowledgeBaseAsync(document.KnowledgeBaseId, null, token), _storageRetries, token);
        }, ct);
        var keywordStored = new IReadOnlyList<StoredChunk>[n];
        var noVectors = new Dictionary<string, float[][]>();
        var keywordStoreStage = await Stage.MeasureAsync("store", n, bytes, chunks, async (i, token) =>
            keywordStored[i] = await Stage.WithRetriesAsync(
                () => keywordStore.Store.CompleteAsync(uploaded[i].Id, chunked[i].Title, chunked[i].Rows, noVectors, DateTimeOffset.UtcNow, token),
                _storageRetries, token)
                ?? throw new InvalidOperationException("the store wants vectors"), ct);
        KnowledgeIndex? keywordIndex = new();
        var keywordIndexed = await Stage.Measure("keyword index", n, bytes, chunks, i => keywordIndex!.AddDocument(chunked[i].Title, keywordStored[i]), ct);
        var keywordDatabaseMegabytes = keywordStore.Megabytes;

        // What stays: the index, holding every chunk's text as search results show it; nothing else of this scale.
        Array.Clear(chunked);
        Array.Clear(keywordStored);
        var liveHeap = ProcessMemory.LiveHeapMegabytes();
        keywordIndex = null;
        var keywordIndexMegabytes = liveHeap - ProcessMemory.LiveHeapMegabytes();
        var peak = ProcessMemory.PeakResidentMegabytes();

        return new ScaleResult(
            scale, n, bytes, chunks,
            [parse, chunk, claim, keywordStoreStage, keywordIndexed],
            // The queue's claim is the same with vectors or without; measured once, counted in both.
            withEmbeddings.Count == 0 ? [] : [parse, chunk, .. embedStage is null ? Array.Empty<StageResult>() : [embedStage], claim, .. withEmbeddings],
            peak, liveHeap, keywordIndexMegabytes, vectorIndexMegabytes, keywordDatabaseMegabytes, vectorDatabaseMegabytes,
            _storageRetries.Value - retriesBefore, _setupRetries.Value - setupRetriesBefore);
    }

    /// <summary>
    /// Parse, chunk and keyword index over one copy of the corpus, in memory, <paramref name="passes"/> times with a
    /// pause between: the CPU-bound stages need many calls over time before the runtime has compiled them fully
    /// optimized (tiered compilation with dynamic PGO), more than one pass through every stage gives them.
    /// </summary>
    public async Task WarmUpAsync(int passes, CancellationToken ct)
    {
        var documents = corpus.Documents(1);
        var files = documents.Select(d => d.Markdown()).ToArray();
        for (var pass = 0; pass < passes; pass++)
        {
            var index = new KnowledgeIndex();
            var ids = 0L;
            await Stage.Measure("warm-up", documents.Count, 0, 0, i =>
            {
                using var content = new MemoryStream(files[i], writable: false);
                var chunked = Chunk(_parsers.Parse(content, documents[i].FileName, MarkdownType, _limits, ct), documents[i].Title);
                var documentId = Invariant($"warm_{i}");
                index.AddDocument(chunked.Title, [.. chunked.Rows.Select((r, k) => new StoredChunk(Interlocked.Increment(ref ids), "kb_warm", documentId, k, r.Text, r.Section, r.Page))]);
            }, ct);
            await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
        }
    }

    /// <summary>The worker's chunking: every block but headings (they are in the section path), then its title.</summary>
    private static ChunkedDocument Chunk(ParsedDocument parsed, string uploadTitle)
    {
        var blocks = parsed.Blocks.Where(b => b.Kind != BlockKind.Heading).Select(b => new TextBlock(b.Text, b.SectionPath, b.Page));
        var drafts = new Chunker(Knowledge.Chunking).Split(blocks);
        var title = string.IsNullOrWhiteSpace(parsed.Title) ? uploadTitle : parsed.Title.Trim();
        if (title.Length > 300)
        {
            title = title[..300];
        }

        return new ChunkedDocument(title, [.. drafts.Select(c => (c.Text, c.Section, c.Page))], [.. drafts.Select(c => Chunker.IndexText(c.Section, c.Text))]);
    }

    /// <summary>
    /// The worker's embedding: the document's index texts in batches of <see cref="KnowledgeOptions.EmbeddingBatchSize"/>,
    /// mostly-Chinese ones skipped as the server skips them for the English-only local encoder.
    /// </summary>
    private static float[][] Embed(LocalSentenceEncoder encoder, List<string> texts)
    {
        var vectors = new List<float[]>(texts.Count);
        for (var start = 0; start < texts.Count; start += Knowledge.EmbeddingBatchSize)
        {
            vectors.AddRange(KnowledgeEmbedder.EmbedLocally(encoder, texts.GetRange(start, Math.Min(Knowledge.EmbeddingBatchSize, texts.Count - start))));
        }

        return [.. vectors];
    }

    private static float[][] StandIns(int dimensions)
    {
        var random = new Random(42);
        return [.. Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray())];
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
