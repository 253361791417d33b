using Mulan.Knowledge;
using Mulan.Knowledge.Retrieval;

namespace Mulan.Tests.Knowledge.Lifecycle;

/// <summary>The in-memory index swaps a document's versions as one change, for keyword, vector and fused reads alike.</summary>
public sealed class IndexSwapTests
{
    private const int Chunks = 20;

    private static (StoredChunk[] Chunks, float[][] Vectors) Version(string documentId, long firstId) =>
        ([.. Enumerable.Range(0, Chunks).Select(i => new StoredChunk(firstId + i, "kb", documentId, i, $"harbour pilot schedule {documentId} part {i}", null, null))],
         [.. Enumerable.Range(0, Chunks).Select(i => new[] { 1f, i / 100f, 0.5f })]);

    [Fact]
    public async Task Concurrent_searches_see_one_whole_version_while_versions_are_swapped()
    {
        var index = new KnowledgeIndex();
        var (first, firstVectors) = Version("doc_v0", 1);
        index.AddDocument("Schedule", first, new Dictionary<string, float[][]> { ["m"] = firstVectors });
        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var reads = 0L;
        void Check(IEnumerable<IndexedChunk> chunks, string how)
        {
            var list = chunks.ToList();
            if (list.Count != Chunks || list.Select(c => c.DocumentId).Distinct().Count() != 1)
            {
                failures.Enqueue($"{how}: {list.Count} chunks from {string.Join(",", list.Select(c => c.DocumentId).Distinct())}");
            }
            Interlocked.Increment(ref reads);
        }
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                switch (r)
                {
                    case 0:
                        Check(index.SearchKeyword("kb", "harbour pilot schedule", 50).Select(h => h.Chunk), "keyword");
                        break;
                    case 1:
                        Check(index.SearchVector("kb", "m", [1f, 0f, 0.5f], 50).Select(h => h.Chunk), "vector");
                        break;
                    default:
                        var (keyword, vector) = index.SearchBoth("kb", "harbour pilot schedule", "m", [1f, 0f, 0.5f], 50);
                        Check(keyword.Select(h => h.Chunk).Concat(vector.Select(h => h.Chunk)).DistinctBy(c => c.Id), "both");
                        break;
                }
            }
        })).ToArray();

        // On a busy machine the readers may not have been scheduled yet: swap at least 300 times, and on until they have
        // read more than 100 times (at most 20 s), so that the reads really overlap the swaps.
        var previous = "doc_v0";
        var v = 0;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (v < 300 || (Interlocked.Read(ref reads) <= 100 && DateTime.UtcNow < deadline))
        {
            v++;
            var (chunks, vectors) = Version($"doc_v{v}", 1 + (v * Chunks));
            index.ReplaceDocument(previous, "Schedule", chunks, new Dictionary<string, float[][]> { ["m"] = vectors });
            previous = $"doc_v{v}";
        }
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Empty(failures);
        Assert.True(reads > 100, $"{reads} reads");
        Assert.Equal(Chunks, index.ChunkCount);
        Assert.Equal(Chunks, index.VectorCount("kb", "m"));
        Assert.Equal(0, index.ChunksOf($"doc_v{v - 1}"));
        Assert.Equal(Chunks, index.ChunksOf($"doc_v{v}"));
    }

    [Fact]
    public void Removing_a_knowledge_base_forgets_its_chunks_and_vectors_only()
    {
        var index = new KnowledgeIndex();
        var (a, av) = Version("doc_a", 1);
        index.AddDocument("A", a, new Dictionary<string, float[][]> { ["m"] = av });
        var b = a.Select(c => c with { Id = c.Id + 1000, KnowledgeBaseId = "other", DocumentId = "doc_b" }).ToArray();
        index.AddDocument("B", b, new Dictionary<string, float[][]> { ["m"] = av });

        index.RemoveKnowledgeBase("kb");
        index.AddVectors("kb", "m", [(1L, [1f, 0f, 0f])]); // a late vector of a deleted chunk does not come back

        Assert.Empty(index.SearchKeyword("kb", "harbour", 10));
        Assert.Equal(0, index.VectorCount("kb", "m"));
        Assert.Equal(Chunks, index.SearchKeyword("other", "harbour", 50).Count);
        Assert.Equal(Chunks, index.ChunkCount);
    }
}
