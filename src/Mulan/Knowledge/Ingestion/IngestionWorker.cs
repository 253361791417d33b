using Microsoft.Extensions.Options;
using Mulan.Hosting;
using Mulan.Knowledge.Chunking;
using Mulan.Knowledge.Embedding;
using Mulan.Speech.Audio;
using Mulan.Knowledge.Ingestion.Parsing;
using Mulan.Knowledge.Lifecycle;

namespace Mulan.Knowledge.Ingestion;

/// <summary>
/// The durable ingestion queue's consumers. The queue is the documents table itself: a worker claims the oldest
/// queued document in one statement, parses and chunks it, and replaces its chunks and marks it ready in one
/// transaction. After a crash, documents left "processing" are queued again, and re-running one replaces its
/// chunks rather than adding to them, so nothing is duplicated. Vectors for the knowledge base's embedding models are
/// computed before that transaction and stored in it, so a ready document is always searchable both ways.
/// A document that replaces an earlier version of its source swaps with it in that same transaction and then in the
/// index (see <see cref="KnowledgeLifecycle"/>); one that fails leaves the earlier version as it was. A document
/// deleted while it is being ingested is dropped when the worker finds it gone.
/// </summary>
public sealed partial class IngestionWorker(
    IKnowledgeStore store, DocumentFiles files, DocumentParsers parsers, MediaIngestion media, KnowledgeLifecycle lifecycle, KnowledgeEmbedder embedder, IngestionSignal signal,
    IOptions<KnowledgeOptions> options, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<IngestionWorker> logger) : BackgroundService
{
    private readonly KnowledgeOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Documents are embedded through this server's own gateway, which answers only once the server listens.
        if (!await lifetime.WaitAsync(stoppingToken))
        {
            return;
        }
        var requeued = await store.RequeueInterruptedAsync(stoppingToken);
        if (requeued > 0)
        {
            LogRequeued(logger, requeued);
        }
        await Task.WhenAll(Enumerable.Range(0, _options.Workers).Select(_ => Task.Run(() => WorkAsync(stoppingToken), stoppingToken)));
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var document = await store.ClaimNextAsync(time.GetUtcNow(), ct);
                if (document is null)
                {
                    await signal.WaitAsync(TimeSpan.FromSeconds(2), ct);
                    continue;
                }
                await IngestAsync(document, ct);
            }
            catch (DocumentGoneException e)
            {
                // Deleted (or superseded by a newer upload) while it was being ingested: nothing of it is kept.
                LogGone(logger, e.DocumentId);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException)
            {
                // Storage trouble: the claimed document stays "processing" and is requeued at the next start.
                LogStorageFailure(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    private async Task IngestAsync(KnowledgeDocument document, CancellationToken ct)
    {
        if (document.Attempts > _options.MaxAttempts)
        {
            await store.FailAsync(document.Id, $"gave up after {_options.MaxAttempts} attempts (the server stopped while ingesting it)", time.GetUtcNow(), ct);
            return;
        }
        ParsedDocument parsed;
        try
        {
            await using var content = files.Open(document.Id);
            var owner = await store.FindKnowledgeBaseAsync(document.KnowledgeBaseId, null, ct) ?? throw new DocumentGoneException(document.Id);
            ParsedDocument? routed = null;
            if (owner.OcrModel is not null || owner.TranscriptionModel is not null || await IsAudioAsync(content, ct))
            {
                using var buffer = new MemoryStream();
                await content.CopyToAsync(buffer, ct);
                routed = await media.TryParseAsync(owner, document, buffer.ToArray(), ct);
                content.Position = 0;
            }
            parsed = routed ?? parsers.Parse(content, document.Source, document.MediaType, new ParseLimits { MaxInputBytes = _options.MaxFileBytes }, ct);
        }
        catch (DocumentParseException e)
        {
            await store.FailAsync(document.Id, e.Reason, time.GetUtcNow(), ct);
            LogFailed(logger, document.Id, e.Reason);
            return;
        }
        catch (DocumentGoneException)
        {
            throw;
        }
        catch (FileNotFoundException)
        {
            await store.FailAsync(document.Id, "the uploaded file is missing from the data folder", time.GetUtcNow(), ct);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A parser bug on a hostile file must fail that document, never the worker.
            var reason = $"the file could not be read ({e.GetType().Name})";
            await store.FailAsync(document.Id, reason, time.GetUtcNow(), ct);
            LogParserCrash(logger, document.Id, e);
            return;
        }
        var blocks = parsed.Blocks.Where(b => b.Kind != BlockKind.Heading).Select(b => new TextBlock(b.Text, b.SectionPath, b.Page));
        var chunks = new Chunker(_options.Chunking).Split(blocks);
        if (chunks.Count == 0)
        {
            await store.FailAsync(document.Id, "the document contains no text", time.GetUtcNow(), ct);
            return;
        }
        var title = string.IsNullOrWhiteSpace(parsed.Title) ? document.Title : parsed.Title.Trim();
        if (title.Length > 300)
        {
            title = title[..300];
        }
        var rows = chunks.Select(c => (c.Text, c.Section, c.Page)).ToList();
        var texts = chunks.Select(c => Chunker.IndexText(c.Section, c.Text)).ToList();
        var vectors = new Dictionary<string, float[][]>(StringComparer.Ordinal);
        // The knowledge base's models can change while this runs: the store refuses a completion that lacks a vector
        // model the knowledge base now needs, and the vectors for that model are added here before trying again.
        for (var round = 0; round < 5; round++)
        {
            var kb = await store.FindKnowledgeBaseAsync(document.KnowledgeBaseId, null, ct) ?? throw new DocumentGoneException(document.Id);
            if (kb.EmbeddingModel is { } active && !vectors.ContainsKey(active))
            {
                try
                {
                    vectors[active] = await EmbedAsync(active, kb.WorkspaceId, texts, ct);
                }
                catch (EmbeddingException e)
                {
                    await EmbeddingFailedAsync(document, e, ct);
                    return;
                }
            }
            if (kb.PendingEmbeddingModel is { } pending && !vectors.ContainsKey(pending))
            {
                try
                {
                    vectors[pending] = await EmbedAsync(pending, kb.WorkspaceId, texts, ct);
                }
                catch (EmbeddingException e)
                {
                    // Not needed to search yet: the re-embedding fills it in (and retries) before switching over.
                    LogPendingSkipped(logger, document.Id, e.Message);
                }
            }
            var stored = await lifecycle.CompleteAsync(document, title, rows, vectors, kb.VectorModels, ct);
            if (stored is not null)
            {
                LogReady(logger, document.Id, stored.Count);
                return;
            }
        }
        await store.RequeueAsync(document.Id, ct);
    }

    private async Task<float[][]> EmbedAsync(string model, string workspaceId, List<string> texts, CancellationToken ct)
    {
        var vectors = new List<float[]>(texts.Count);
        for (var start = 0; start < texts.Count; start += _options.EmbeddingBatchSize)
        {
            vectors.AddRange(await embedder.EmbedAsync(model, workspaceId, texts.GetRange(start, Math.Min(_options.EmbeddingBatchSize, texts.Count - start)), ct));
        }
        return [.. vectors];
    }

    // An audio file in a base without a transcription route fails with a reason that says what to set.
    private static async Task<bool> IsAudioAsync(Stream content, CancellationToken ct)
    {
        var head = new byte[64];
        var read = await content.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
        content.Position = 0;
        return AudioSniffer.Detect(head.AsSpan(0, read)) is not null;
    }

    private async Task EmbeddingFailedAsync(KnowledgeDocument document, EmbeddingException e, CancellationToken ct)
    {
        if (!e.Transient || document.Attempts >= _options.MaxAttempts)
        {
            var reason = $"embedding failed: {e.Message}";
            await store.FailAsync(document.Id, reason, time.GetUtcNow(), ct);
            LogFailed(logger, document.Id, reason);
            return;
        }
        // The vendor may be back soon: wait (longer each attempt) before the document goes back to the queue.
        LogEmbeddingRetry(logger, document.Id, e.Message);
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(60, 1 << document.Attempts)), time, ct);
        await store.RequeueAsync(document.Id, ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Document {DocumentId} was deleted while it was being ingested; dropped")]
    private static partial void LogGone(ILogger logger, string documentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Requeued {Count} documents interrupted by the last stop")]
    private static partial void LogRequeued(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId}: no vectors from the pending embedding model yet: {Reason}")]
    private static partial void LogPendingSkipped(ILogger logger, string documentId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId}: embedding failed, will try again: {Reason}")]
    private static partial void LogEmbeddingRetry(ILogger logger, string documentId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Document {DocumentId} ready: {Chunks} chunks")]
    private static partial void LogReady(ILogger logger, string documentId, int chunks);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string documentId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Document {DocumentId}: the parser failed unexpectedly")]
    private static partial void LogParserCrash(ILogger logger, string documentId, Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ingestion storage failure")]
    private static partial void LogStorageFailure(ILogger logger, Exception e);
}
