using System.Collections.Concurrent;
using Mulan.Knowledge.Chunking;
using Mulan.Knowledge.Indexing.Keyword;
using Mulan.Knowledge.Indexing.Vector;

namespace Mulan.Knowledge.Retrieval;

/// <summary>A chunk as search results show it.</summary>
public sealed record IndexedChunk(long Id, string KnowledgeBaseId, string DocumentId, string Title, string Text, string? Section, int? Page);

/// <summary>
/// The in-process indexes of every knowledge base: one BM25 keyword index per knowledge base, one vector index per
/// knowledge base and embedding model (the active one, and a pending one while re-embedding), and the chunks
/// themselves, so a search needs no database round trip. Rebuilt from storage at start-up; a document's
/// chunks are added after its transaction commits and replaced whole when it is re-ingested.
/// </summary>
public sealed class KnowledgeIndex
{
    private readonly ConcurrentDictionary<string, KeywordIndex> _keyword = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, IndexedChunk> _chunks = new();
    private readonly ConcurrentDictionary<string, long[]> _byDocument = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string KnowledgeBaseId, string Model), VectorIndex> _vectors = new();
    private readonly ITextAnalyzer _analyzer = TextAnalyzers.Default;

    public int ChunkCount => _chunks.Count;

    /// <param name="vectors">per embedding model, one vector per chunk in chunk order.</param>
    public void AddDocument(string title, IReadOnlyList<StoredChunk> chunks, IReadOnlyDictionary<string, float[][]>? vectors = null)
    {
        if (chunks.Count == 0)
        {
            return;
        }
        RemoveDocument(chunks[0].DocumentId);
        var keyword = _keyword.GetOrAdd(chunks[0].KnowledgeBaseId, _ => new KeywordIndex(_analyzer));
        foreach (var c in chunks)
        {
            _chunks[c.Id] = new IndexedChunk(c.Id, c.KnowledgeBaseId, c.DocumentId, title, c.Text, c.Section, c.Page);
            keyword.Add(c.Id, Chunker.IndexText(c.Section, c.Text));
        }
        foreach (var (model, modelVectors) in vectors ?? new Dictionary<string, float[][]>())
        {
            AddVectors(chunks[0].KnowledgeBaseId, model, chunks.Select((c, i) => (c.Id, modelVectors[i])));
        }
        _byDocument[chunks[0].DocumentId] = [.. chunks.Select(c => c.Id)];
    }

    public void AddVectors(string knowledgeBaseId, string model, IEnumerable<(long ChunkId, float[] Vector)> vectors)
    {
        VectorIndex? index = null;
        foreach (var (id, vector) in vectors)
        {
            if (vector.Length == 0)
            {
                continue; // a chunk the model was not asked to embed (see KnowledgeEmbedder.Unsuited)
            }
            // The first vector fixes the dimensions; a model that changes them is a different index.
            index ??= _vectors.AddOrUpdate((knowledgeBaseId, model), _ => new VectorIndex(vector.Length),
                (_, existing) => existing.Dimensions == vector.Length ? existing : new VectorIndex(vector.Length));
            index.Add(id, vector);
        }
    }

    /// <summary>Forgets the vectors of every model of a knowledge base except <paramref name="keep"/>.</summary>
    public void RetainVectors(string knowledgeBaseId, IReadOnlyCollection<string> keep)
    {
        foreach (var key in _vectors.Keys.Where(k => k.KnowledgeBaseId == knowledgeBaseId && !keep.Contains(k.Model)))
        {
            _vectors.TryRemove(key, out _);
        }
    }

    public int VectorCount(string knowledgeBaseId, string model) =>
        _vectors.TryGetValue((knowledgeBaseId, model), out var index) ? index.Count : 0;

    public IReadOnlyList<(IndexedChunk Chunk, VectorHit Hit)> SearchVector(string knowledgeBaseId, string model, float[] query, int topK)
    {
        if (!_vectors.TryGetValue((knowledgeBaseId, model), out var index) || index.Dimensions != query.Length)
        {
            return [];
        }
        var results = new List<(IndexedChunk, VectorHit)>(topK);
        foreach (var hit in index.Search(query, topK))
        {
            if (_chunks.TryGetValue(hit.ChunkId, out var chunk))
            {
                results.Add((chunk, hit));
            }
        }
        return results;
    }

    public void RemoveDocument(string documentId)
    {
        if (!_byDocument.TryRemove(documentId, out var ids))
        {
            return;
        }
        string? knowledgeBaseId = null;
        foreach (var id in ids)
        {
            if (!_chunks.TryRemove(id, out var chunk))
            {
                continue;
            }
            knowledgeBaseId = chunk.KnowledgeBaseId;
            if (_keyword.TryGetValue(chunk.KnowledgeBaseId, out var keyword))
            {
                keyword.Remove(id);
            }
        }
        // A document's chunks all belong to one knowledge base: its vector indexes are looked up once, not per chunk.
        foreach (var (key, vectors) in _vectors)
        {
            if (key.KnowledgeBaseId == knowledgeBaseId)
            {
                foreach (var id in ids)
                {
                    vectors.Remove(id);
                }
            }
        }
    }

    public IReadOnlyList<(IndexedChunk Chunk, KeywordHit Hit)> SearchKeyword(string knowledgeBaseId, string query, int topK)
    {
        if (!_keyword.TryGetValue(knowledgeBaseId, out var keyword))
        {
            return [];
        }
        var hits = keyword.Search(query, topK);
        var results = new List<(IndexedChunk, KeywordHit)>(hits.Count);
        foreach (var hit in hits)
        {
            if (_chunks.TryGetValue(hit.ChunkId, out var chunk))
            {
                results.Add((chunk, hit));
            }
        }
        return results;
    }
}
