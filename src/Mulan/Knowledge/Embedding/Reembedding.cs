using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Mulan.Hosting;
using Mulan.Knowledge.Chunking;
using Mulan.Knowledge.Retrieval;

namespace Mulan.Knowledge.Embedding;

/// <summary>The last trouble of a knowledge base's switch to a new embedding model (progress itself is counted in storage).</summary>
public sealed record ReembeddingProgress(string Model, int Embedded, string? LastError);

/// <summary>
/// Switches knowledge bases to a new embedding model without downtime. Searches keep using the active model's
/// vectors while this fills in the pending model's, batch by batch (each batch durable, so a restart resumes where
/// it stopped); when every chunk has one, the pending model becomes active in one transaction and the old vectors
/// are dropped. Documents ingested meanwhile are embedded with both models by the ingestion workers.
/// </summary>
public sealed partial class ReembeddingWorker(IKnowledgeStore store, KnowledgeIndex index, KnowledgeEmbedder embedder,
    IOptions<KnowledgeOptions> options, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<ReembeddingWorker> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly ConcurrentDictionary<string, ReembeddingProgress> _progress = new(StringComparer.Ordinal);

    public void Wake() => _wake.Release();

    public ReembeddingProgress? ProgressOf(string knowledgeBaseId) => _progress.GetValueOrDefault(knowledgeBaseId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Embeddings are calls to this server's own gateway: none can succeed before it listens, and a first pass that
        // failed for that would only wait out a back-off (measured: a restart under load then resumed a minute late).
        if (!await lifetime.WaitAsync(stoppingToken))
        {
            return;
        }
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var idle = true;
            try
            {
                foreach (var kb in await store.ListKnowledgeBasesAsync(null, stoppingToken))
                {
                    if (kb.PendingEmbeddingModel is not null)
                    {
                        idle = false;
                        await ReembedAsync(kb, stoppingToken);
                    }
                }
                failures = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is EmbeddingException or System.Data.Common.DbException or IOException)
            {
                // The vendor or the disk is in trouble: try again later, longer each time; searches are unaffected.
                failures++;
                idle = true;
                LogRetry(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(60, 1 << Math.Min(failures, 6))), time, stoppingToken);
            }
            if (idle && !await IdleAsync(stoppingToken))
            {
                return;
            }
        }
    }

    /// <summary>Waits for work or five seconds; false when the server is stopping (a stop is not a failure, even one
    /// that comes before the host finished starting).</summary>
    private async Task<bool> IdleAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _wake.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
            return true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task ReembedAsync(KnowledgeBase kb, CancellationToken ct)
    {
        var model = kb.PendingEmbeddingModel!;
        var embedded = _progress.TryGetValue(kb.Id, out var p) && p.Model == model ? p.Embedded : 0;
        var after = 0L;
        while (true)
        {
            var current = await store.FindKnowledgeBaseAsync(kb.Id, null, ct);
            if (current?.PendingEmbeddingModel != model)
            {
                return; // changed or cancelled meanwhile; the next pass sees the new state
            }
            var batch = await store.ChunksWithoutVectorAsync(kb.Id, model, after, options.Value.EmbeddingBatchSize, ct);
            if (batch.Count == 0)
            {
                if (after == 0 && await store.TryActivatePendingAsync(kb.Id, ct))
                {
                    index.RetainVectors(kb.Id, [model]);
                    _progress.TryRemove(kb.Id, out _);
                    LogSwitched(logger, kb.Id, model, embedded);
                    return;
                }
                // Chunks may have arrived behind the cursor (or none was left): look again from the start.
                if (after == 0)
                {
                    return;
                }
                after = 0;
                continue;
            }
            float[][] vectors;
            try
            {
                vectors = await embedder.EmbedAsync(model, kb.WorkspaceId, [.. batch.Select(c => Chunker.IndexText(c.Section, c.Text))], ct);
            }
            catch (EmbeddingException e)
            {
                _progress[kb.Id] = new ReembeddingProgress(model, embedded, e.Message);
                throw;
            }
            var pairs = batch.Select((c, i) => (c.Id, vectors[i])).ToList();
            await store.SaveVectorsAsync(model, pairs, ct);
            index.AddVectors(kb.Id, model, pairs);
            embedded += batch.Count;
            _progress[kb.Id] = new ReembeddingProgress(model, embedded, null);
            after = batch[^1].Id;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Knowledge base {KnowledgeBaseId} now searches with {Model} ({Embedded} chunks re-embedded)")]
    private static partial void LogSwitched(ILogger logger, string knowledgeBaseId, string model, int embedded);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-embedding paused, will try again: {Reason}")]
    private static partial void LogRetry(ILogger logger, string reason);
}
