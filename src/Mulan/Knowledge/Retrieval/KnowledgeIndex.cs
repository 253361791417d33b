using System.Collections.Concurrent;
using Mulan.Knowledge.Chunking;
using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Knowledge.Retrieval;

/// <summary>A chunk as search results show it.</summary>
public sealed record IndexedChunk(long Id, string KnowledgeBaseId, string DocumentId, string Title, string Text, string? Section, int? Page);

/// <summary>
/// The in-process indexes of every knowledge base: one BM25 keyword index per knowledge base and the chunks
/// themselves, so a search needs no database round trip. Rebuilt from storage at start-up; a document's
/// chunks are added after its transaction commits and replaced whole when it is re-ingested.
/// </summary>
public sealed class KnowledgeIndex
{
    private readonly ConcurrentDictionary<string, KeywordIndex> _keyword = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, IndexedChunk> _chunks = new();
    private readonly ConcurrentDictionary<string, long[]> _byDocument = new(StringComparer.Ordinal);
    private readonly ITextAnalyzer _analyzer = TextAnalyzers.Default;

    public int ChunkCount => _chunks.Count;

    public void AddDocument(string title, IReadOnlyList<StoredChunk> chunks)
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
        _byDocument[chunks[0].DocumentId] = [.. chunks.Select(c => c.Id)];
    }

    public void RemoveDocument(string documentId)
    {
        if (!_byDocument.TryRemove(documentId, out var ids))
        {
            return;
        }
        foreach (var id in ids)
        {
            if (_chunks.TryRemove(id, out var chunk) && _keyword.TryGetValue(chunk.KnowledgeBaseId, out var keyword))
            {
                keyword.Remove(id);
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
