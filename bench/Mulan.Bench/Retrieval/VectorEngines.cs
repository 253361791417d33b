using System.Collections.Concurrent;
using Mulan.Knowledge.Embedding.Local;
using Mulan.Knowledge.Embedding;
using Mulan.Knowledge.Indexing.Vector;
using Mulan.Knowledge.Retrieval;

namespace Mulan.Bench.Retrieval;

/// <summary>
/// Every text embedded once per run: the vector and hybrid arms index the same passages and ask the same questions,
/// and the local encoder is by far the slowest part of the run.
/// </summary>
internal sealed class EmbeddingCache(LocalSentenceEncoder encoder) : IDisposable
{
    private const int Batch = 32;
    private readonly ConcurrentDictionary<string, float[]> _vectors = new(StringComparer.Ordinal);

    public string Model => LocalSentenceEncoder.ModelName;

    public int Dimensions => encoder.Dimensions;

    /// <summary>Embeds every text not seen yet, in batches, one batch per core at a time.</summary>
    public void Fill(IEnumerable<string> texts)
    {
        var missing = texts.Distinct(StringComparer.Ordinal).Where(t => !_vectors.ContainsKey(t)).ToList();
        var batches = missing.Chunk(Batch).ToList();
        Parallel.ForEach(batches, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, batch =>
        {
            var vectors = encoder.Embed(batch);
            for (var i = 0; i < batch.Length; i++)
            {
                _vectors[batch[i]] = vectors[i];
            }
        });
    }

    public float[] Get(string text) => _vectors.TryGetValue(text, out var v) ? v : _vectors.GetOrAdd(text, t => encoder.Embed([t])[0]);

    public void Dispose() => encoder.Dispose();
}

/// <summary>
/// Exact vector search (Mulan's <see cref="VectorIndex"/>) over the local encoder's vectors. With
/// <paramref name="asServed"/>, passages the encoder is unsuited to (mostly Chinese) get no vector, as in the server.
/// </summary>
internal sealed class VectorEngine(EmbeddingCache cache, bool asServed = false) : IRetrievalEngine
{
    private readonly VectorIndex _index = new(cache.Dimensions);
    private readonly ConcurrentQueue<(long Id, string Text)> _pending = new();

    public string Name => "VectorIndex";

    public void Add(long id, string text) => _pending.Enqueue((id, text));

    public void Commit()
    {
        var items = _pending.Where(i => !asServed || KnowledgeEmbedder.Unsuited(cache.Model, i.Text) is null).ToList();
        _pending.Clear();
        cache.Fill(items.Select(i => i.Text));
        foreach (var (id, text) in items)
        {
            _index.Add(id, cache.Get(text));
        }
    }

    public IReadOnlyList<long> Search(string query, int topK) => [.. SearchScored(query, topK).Select(h => h.ChunkId)];

    public IReadOnlyList<VectorHit> SearchScored(string query, int topK) => _index.Search(cache.Get(query), topK);

    public void Dispose()
    {
    }
}

/// <summary>
/// Keyword and vector rankings fused by the server's own <see cref="RankFusion"/> over the top <paramref name="depth"/>
/// of each. With <paramref name="asServed"/>, queries the local encoder is unsuited to (mostly Chinese) are answered by
/// the keyword ranking alone, as the server does.
/// </summary>
internal sealed class HybridEngine(IRetrievalEngine keyword, VectorEngine vector, double k, double keywordWeight, double vectorWeight, bool asServed,
    int depth = 50) : IRetrievalEngine
{
    public string Name => "hybrid";

    public void Add(long id, string text)
    {
        keyword.Add(id, text);
        vector.Add(id, text);
    }

    public void Commit()
    {
        keyword.Commit();
        vector.Commit();
    }

    public IReadOnlyList<long> Search(string query, int topK)
    {
        var byKeyword = keyword.Search(query, Math.Max(topK, depth));
        if (asServed && KnowledgeEmbedder.Unsuited(KnowledgeEmbedder.LocalModel, query) is not null)
        {
            return [.. byKeyword.Take(topK)];
        }
        return [.. RankFusion.Fuse(byKeyword, vector.Search(query, Math.Max(topK, depth)), k, keywordWeight, vectorWeight).Take(topK).Select(f => f.Id)];
    }

    public void Dispose()
    {
        keyword.Dispose();
        vector.Dispose();
    }
}
