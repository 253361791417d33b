using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Knowledge;
using Mulan.Storage;

namespace Mulan.Bench.Ingestion;

/// <summary>
/// A fresh SQLite database in its own folder, set up as the server sets it up (WAL, synchronous=FULL, every
/// migration), with one workspace and one knowledge base whose embedding model decides whether chunks need vectors.
/// </summary>
internal sealed class BenchStore : IAsyncDisposable
{
    private BenchStore(string folder, SqliteKnowledgeStore store, KnowledgeBase knowledgeBase)
    {
        Folder = folder;
        Store = store;
        KnowledgeBase = knowledgeBase;
    }

    public string Folder { get; }

    public SqliteKnowledgeStore Store { get; }

    public KnowledgeBase KnowledgeBase { get; }

    /// <summary>The database files (with the write-ahead log) in MB.</summary>
    public double Megabytes =>
        Directory.EnumerateFiles(Folder, "mulan.db*").Sum(f => new FileInfo(f).Length) / 1e6;

    public static async Task<BenchStore> CreateAsync(string folder, string? embeddingModel, CancellationToken ct)
    {
        var db = new SqliteDatabase(Options.Create(new StorageOptions { DataDirectory = folder }));
        await db.InitializeAsync(ct);
        var now = DateTimeOffset.UtcNow;
        var workspace = new Workspace("ws_bench", "bench", now);
        await new AccessStore(db).TryCreateWorkspaceAsync(workspace, ct);
        var kb = new KnowledgeBase("kb_bench", workspace.Id, "ingestion benchmark", null, now, embeddingModel);
        var store = new SqliteKnowledgeStore(db);
        await store.TryCreateKnowledgeBaseAsync(kb, ct);
        return new BenchStore(folder, store, kb);
    }

    /// <summary>
    /// Queues the documents as uploads do (one committed row each), <see cref="Stage.Workers"/> at a time; not timed.
    /// Each gets its own upload time, a millisecond apart, as one upload after another would: the queue claims in
    /// (created_at, id) order, and thousands of equal times would make every claim sort them all.
    /// </summary>
    public async Task AddDocumentsAsync(IReadOnlyList<UploadedFile> files, StrongBox<int> retries, CancellationToken ct)
    {
        var start = DateTimeOffset.UtcNow;
        await Stage.MeasureAsync("queue", files.Count, 0, 0, async (i, token) =>
        {
            var f = files[i];
            var at = start.AddMilliseconds(i);
            var document = new KnowledgeDocument(f.Id, KnowledgeBase.Id, f.Title, f.FileName, f.MediaType, f.Size, f.Sha256, DocumentStatus.Queued, null, 0, 0, at, at);
            // A failed insert may have committed after all: before trying again, look.
            var attempt = 0;
            await Stage.WithRetriesAsync(
                async () =>
                {
                    if (attempt++ == 0 || await Store.GetDocumentAsync(KnowledgeBase.Id, f.Id, token) is null)
                    {
                        await Store.AddDocumentAsync(document, token);
                    }

                    return true;
                },
                retries, token);
        }, ct);
    }

    public ValueTask DisposeAsync()
    {
        // Pooled connections keep the files open; the folder goes with the benchmark.
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>A document as the upload stored it: its id in the database and in the data folder's documents/.</summary>
internal sealed record UploadedFile(string Id, string FileName, string Title, string MediaType, long Size, string Sha256);
