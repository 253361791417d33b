using Microsoft.Extensions.Options;
using Mulan.Knowledge.Chunking;
using Mulan.Knowledge.Ingestion.Parsing;
using Mulan.Knowledge.Retrieval;

namespace Mulan.Knowledge.Ingestion;

/// <summary>
/// The durable ingestion queue's consumers. The queue is the documents table itself: a worker claims the oldest
/// queued document in one statement, parses and chunks it, and replaces its chunks and marks it ready in one
/// transaction. After a crash, documents left "processing" are queued again, and re-running one replaces its
/// chunks rather than adding to them, so nothing is duplicated.
/// </summary>
public sealed partial class IngestionWorker(
    IKnowledgeStore store, DocumentFiles files, DocumentParsers parsers, KnowledgeIndex index, IngestionSignal signal,
    IOptions<KnowledgeOptions> options, TimeProvider time, ILogger<IngestionWorker> logger) : BackgroundService
{
    private readonly KnowledgeOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
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
            parsed = parsers.Parse(content, document.Source, document.MediaType, new ParseLimits { MaxInputBytes = _options.MaxFileBytes }, ct);
        }
        catch (DocumentParseException e)
        {
            await store.FailAsync(document.Id, e.Reason, time.GetUtcNow(), ct);
            LogFailed(logger, document.Id, e.Reason);
            return;
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
        var stored = await store.CompleteAsync(document.Id, title, [.. chunks.Select(c => (c.Text, c.Section, c.Page))], time.GetUtcNow(), ct);
        index.AddDocument(title, stored);
        LogReady(logger, document.Id, stored.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Requeued {Count} documents interrupted by the last stop")]
    private static partial void LogRequeued(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Document {DocumentId} ready: {Chunks} chunks")]
    private static partial void LogReady(ILogger logger, string documentId, int chunks);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string documentId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Document {DocumentId}: the parser failed unexpectedly")]
    private static partial void LogParserCrash(ILogger logger, string documentId, Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ingestion storage failure")]
    private static partial void LogStorageFailure(ILogger logger, Exception e);
}
