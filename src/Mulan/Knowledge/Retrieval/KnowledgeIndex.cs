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
/// <para>
/// Each knowledge base has a reader-writer gate: a search holds it shared for the few milliseconds it reads the
/// indexes, and a change (a document added, replaced by a new version, renamed or removed) holds it exclusively
/// while it updates the keyword index, the vector indexes and the chunks together. So a search sees a replaced
/// document either in its old version or in its new one, never both or neither. The costly part of a change
/// (analyzing the text) runs before the gate is taken.
/// </para>
/// </summary>
public sealed class KnowledgeIndex
{
    private readonly ConcurrentDictionary<string, KeywordIndex> _keyword = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, IndexedChunk> _chunks = new();
    private readonly ConcurrentDictionary<string, (string KnowledgeBaseId, long[] Ids)> _byDocument = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string KnowledgeBaseId, string Model), VectorIndex> _vectors = new();
    private readonly ConcurrentDictionary<string, ReaderWriterLockSlim> _gates = new(StringComparer.Ordinal);
    private readonly ITextAnalyzer _analyzer = TextAnalyzers.Default;

    public int ChunkCount => _chunks.Count;

    /// <summary>Chunks of one document in the index (0 when it has none).</summary>
    public int ChunksOf(string documentId) => _byDocument.TryGetValue(documentId, out var entry) ? entry.Ids.Length : 0;

    /// <param name="vectors">per embedding model, one vector per chunk in chunk order.</param>
    public void AddDocument(string title, IReadOnlyList<StoredChunk> chunks, IReadOnlyDictionary<string, float[][]>? vectors = null) =>
        ReplaceDocument(null, title, chunks, vectors);

    /// <summary>
    /// Adds a document's chunks and removes those of <paramref name="replacedDocumentId"/> (an earlier version of it)
    /// and any earlier chunks of the same document, as one change.
    /// </summary>
    public void ReplaceDocument(string? replacedDocumentId, string title, IReadOnlyList<StoredChunk> chunks, IReadOnlyDictionary<string, float[][]>? vectors = null)
    {
        if (chunks.Count == 0)
        {
            if (replacedDocumentId is not null)
            {
                RemoveDocument(replacedDocumentId);
            }
            return;
        }
        var knowledgeBaseId = chunks[0].KnowledgeBaseId;
        var documentId = chunks[0].DocumentId;
        var keyword = _keyword.GetOrAdd(knowledgeBaseId, _ => new KeywordIndex(_analyzer));
        var batch = keyword.Prepare(chunks.Select(c => (c.Id, Chunker.IndexText(c.Section, c.Text))));
        var gate = Gate(knowledgeBaseId);
        gate.EnterWriteLock();
        try
        {
            var removed = new List<long>();
            foreach (var old in new[] { documentId, replacedDocumentId }.OfType<string>())
            {
                if (_byDocument.TryRemove(old, out var entry))
                {
                    removed.AddRange(entry.Ids);
                }
            }
            keyword.Apply(removed, batch);
            foreach (var c in chunks)
            {
                _chunks[c.Id] = new IndexedChunk(c.Id, c.KnowledgeBaseId, c.DocumentId, title, c.Text, c.Section, c.Page);
            }
            foreach (var (model, modelVectors) in vectors ?? new Dictionary<string, float[][]>())
            {
                AddVectorsLocked(knowledgeBaseId, model, chunks.Select((c, i) => (c.Id, modelVectors[i])));
            }
            var added = chunks.Select(c => c.Id).ToHashSet();
            RemoveChunksLocked(knowledgeBaseId, [.. removed.Where(id => !added.Contains(id))], keywordDone: true);
            _byDocument[documentId] = (knowledgeBaseId, [.. chunks.Select(c => c.Id)]);
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    public void AddVectors(string knowledgeBaseId, string model, IEnumerable<(long ChunkId, float[] Vector)> vectors)
    {
        var gate = Gate(knowledgeBaseId);
        gate.EnterWriteLock();
        try
        {
            AddVectorsLocked(knowledgeBaseId, model, vectors);
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    private void AddVectorsLocked(string knowledgeBaseId, string model, IEnumerable<(long ChunkId, float[] Vector)> vectors)
    {
        VectorIndex? index = null;
        foreach (var (id, vector) in vectors)
        {
            // A chunk not (or no longer) in the index: its document was replaced or deleted while the vector was computed.
            if (vector.Length == 0 || !_chunks.ContainsKey(id))
            {
                continue; // an empty vector: a chunk the model was not asked to embed (see KnowledgeEmbedder.Unsuited)
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
        var gate = Gate(knowledgeBaseId);
        gate.EnterWriteLock();
        try
        {
            foreach (var key in _vectors.Keys.Where(k => k.KnowledgeBaseId == knowledgeBaseId && !keep.Contains(k.Model)))
            {
                _vectors.TryRemove(key, out _);
            }
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    public int VectorCount(string knowledgeBaseId, string model) =>
        _vectors.TryGetValue((knowledgeBaseId, model), out var index) ? index.Count : 0;

    public IReadOnlyList<(IndexedChunk Chunk, VectorHit Hit)> SearchVector(string knowledgeBaseId, string model, float[] query, int topK)
    {
        var gate = Gate(knowledgeBaseId);
        gate.EnterReadLock();
        try
        {
            return SearchVectorLocked(knowledgeBaseId, model, query, topK);
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    public IReadOnlyList<(IndexedChunk Chunk, KeywordHit Hit)> SearchKeyword(string knowledgeBaseId, string query, int topK)
    {
        var gate = Gate(knowledgeBaseId);
        gate.EnterReadLock();
        try
        {
            return SearchKeywordLocked(knowledgeBaseId, query, topK);
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    /// <summary>Keyword and vector search over one state of the knowledge base, for fusing.</summary>
    public (IReadOnlyList<(IndexedChunk Chunk, KeywordHit Hit)> Keyword, IReadOnlyList<(IndexedChunk Chunk, VectorHit Hit)> Vector) SearchBoth(
        string knowledgeBaseId, string query, string model, float[] vector, int topK)
    {
        var gate = Gate(knowledgeBaseId);
        gate.EnterReadLock();
        try
        {
            return (SearchKeywordLocked(knowledgeBaseId, query, topK), SearchVectorLocked(knowledgeBaseId, model, vector, topK));
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    public void RemoveDocument(string documentId)
    {
        if (!_byDocument.TryGetValue(documentId, out var entry))
        {
            return;
        }
        var gate = Gate(entry.KnowledgeBaseId);
        gate.EnterWriteLock();
        try
        {
            if (_byDocument.TryRemove(documentId, out entry))
            {
                RemoveChunksLocked(entry.KnowledgeBaseId, entry.Ids, keywordDone: false);
            }
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    /// <summary>Gives every chunk of a document a new title (what results and citations show).</summary>
    public void Retitle(string documentId, string title)
    {
        if (!_byDocument.TryGetValue(documentId, out var entry))
        {
            return;
        }
        var gate = Gate(entry.KnowledgeBaseId);
        gate.EnterWriteLock();
        try
        {
            foreach (var id in _byDocument.TryGetValue(documentId, out entry) ? entry.Ids : [])
            {
                if (_chunks.TryGetValue(id, out var chunk))
                {
                    _chunks[id] = chunk with { Title = title };
                }
            }
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    /// <summary>Forgets everything of a knowledge base: its keyword index, vector indexes and chunks.</summary>
    public void RemoveKnowledgeBase(string knowledgeBaseId)
    {
        var gate = Gate(knowledgeBaseId);
        gate.EnterWriteLock();
        try
        {
            _keyword.TryRemove(knowledgeBaseId, out _);
            foreach (var key in _vectors.Keys.Where(k => k.KnowledgeBaseId == knowledgeBaseId))
            {
                _vectors.TryRemove(key, out _);
            }
            foreach (var (documentId, entry) in _byDocument)
            {
                if (entry.KnowledgeBaseId == knowledgeBaseId && _byDocument.TryRemove(documentId, out _))
                {
                    foreach (var id in entry.Ids)
                    {
                        _chunks.TryRemove(id, out _);
                    }
                }
            }
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    private void RemoveChunksLocked(string knowledgeBaseId, IReadOnlyList<long> ids, bool keywordDone)
    {
        if (ids.Count == 0)
        {
            return;
        }
        foreach (var id in ids)
        {
            _chunks.TryRemove(id, out _);
        }
        if (!keywordDone && _keyword.TryGetValue(knowledgeBaseId, out var keyword))
        {
            keyword.Apply(ids, new KeywordBatch());
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

    private IReadOnlyList<(IndexedChunk Chunk, VectorHit Hit)> SearchVectorLocked(string knowledgeBaseId, string model, float[] query, int topK)
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

    private IReadOnlyList<(IndexedChunk Chunk, KeywordHit Hit)> SearchKeywordLocked(string knowledgeBaseId, string query, int topK)
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

    // Gates are kept for the life of the process (one small object per knowledge base ever seen), so a search
    // never races a gate being replaced.
    private ReaderWriterLockSlim Gate(string knowledgeBaseId) =>
        _gates.GetOrAdd(knowledgeBaseId, _ => new ReaderWriterLockSlim(LockRecursionPolicy.NoRecursion));
}
