using Microsoft.Extensions.Options;
using Mulan.Knowledge;
using Mulan.Knowledge.Retrieval;

namespace Mulan.Storage.Postgres;

/// <summary>
/// Keeps this node's in-memory keyword and vector indexes in step with changes other nodes make, from the change log
/// <c>knowledge_changes</c> (written in each change's own transaction). Every second it reads the changes of
/// transactions that have all ended since the last read, in sequence order, and reads each changed document or
/// knowledge base again from the database: a change is applied from the stored state, never as a delta, so applying one
/// twice (this node's own, or after a failed pass) changes nothing. A node that starts loads every ready chunk and then
/// follows the log from the horizon taken before that load, so it misses nothing written meanwhile. On SQLite (one
/// process) it does nothing.
/// </summary>
internal sealed partial class PostgresKnowledgeSync(IOptions<StorageOptions> options, IServiceProvider services, ILogger<PostgresKnowledgeSync> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.UsesPostgres)
        {
            return;
        }
        var db = services.GetRequiredService<PostgresDatabase>();
        var store = (PostgresKnowledgeStore)services.GetRequiredService<IKnowledgeStore>();
        var index = services.GetRequiredService<KnowledgeIndex>();
        var from = db.StartHorizon;
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var to = await store.HorizonAsync(stoppingToken);
                    if (to <= from)
                    {
                        continue;
                    }
                    var changes = await store.ChangesAsync(from, to, stoppingToken);
                    foreach (var change in changes)
                    {
                        await ApplyAsync(store, index, change, stoppingToken);
                    }
                    // Only once every change of the window is applied: a failed pass is read again whole.
                    from = to;
                    if (changes.Count > 0)
                    {
                        Applied(changes.Count, changes[^1].Seq);
                    }
                }
                catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException)
                {
                    PassFailed(e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    internal static async Task ApplyAsync(PostgresKnowledgeStore store, KnowledgeIndex index, KnowledgeChange change, CancellationToken ct)
    {
        switch (change.Kind)
        {
            case KnowledgeChange.Document when change.DocumentId is { } documentId:
                if (await store.ReadyDocumentAsync(documentId, ct) is not { } ready)
                {
                    index.RemoveDocument(documentId);
                    return;
                }
                index.ReplaceDocument(change.Replaces, ready.Title, ready.Chunks);
                if (ready.Chunks.Count > 0 && await store.FindKnowledgeBaseAsync(ready.Chunks[0].KnowledgeBaseId, null, ct) is { } kb)
                {
                    foreach (var model in kb.VectorModels)
                    {
                        var vectors = await store.VectorsAsync(model, documentId, long.MinValue, long.MaxValue, ct);
                        index.AddVectors(kb.Id, model, vectors.Select(v => (v.ChunkId, v.Vector)));
                    }
                }
                return;
            case KnowledgeChange.KnowledgeBase when change.KnowledgeBaseId is { } kbId:
                if (await store.FindKnowledgeBaseAsync(kbId, null, ct) is not { } found || found.Id != kbId)
                {
                    index.RemoveKnowledgeBase(kbId);
                    return;
                }
                index.RetainVectors(kbId, found.VectorModels);
                foreach (var model in found.VectorModels)
                {
                    var vectors = new List<(long, float[])>();
                    await foreach (var v in store.LoadVectorsAsync(kbId, model, ct))
                    {
                        vectors.Add(v);
                    }
                    index.AddVectors(kbId, model, vectors);
                }
                return;
            case KnowledgeChange.Vectors when change is { Model: { } m, FromChunk: { } lo, ToChunk: { } hi }:
                foreach (var group in (await store.VectorsAsync(m, null, lo, hi, ct)).GroupBy(v => v.KnowledgeBaseId, StringComparer.Ordinal))
                {
                    index.AddVectors(group.Key, m, group.Select(v => (v.ChunkId, v.Vector)));
                }
                return;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Knowledge sync: {Count} changes applied, up to {Seq}")]
    private partial void Applied(int count, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Knowledge sync pass failed, retried at the next: {Reason}")]
    private partial void PassFailed(string reason);
}
