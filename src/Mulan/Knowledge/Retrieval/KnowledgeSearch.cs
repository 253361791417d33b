using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Knowledge.Retrieval;

/// <summary>Why a chunk ranked where it did.</summary>
public sealed record SearchExplanation(double KeywordScore, int KeywordRank, IReadOnlyList<TermContribution> MatchedTerms, double? VectorScore, int? VectorRank, int FusedRank);

public sealed record SearchResult(IndexedChunk Chunk, double Score, SearchExplanation Explanation);

/// <summary>Retrieval over one knowledge base. Today: BM25 over Chinese-aware analysis; vectors and fusion join here.</summary>
public sealed class KnowledgeSearch(KnowledgeIndex index)
{
    public const int MaxTopK = 50;

    public IReadOnlyList<SearchResult> Search(string knowledgeBaseId, string query, int topK)
    {
        var hits = index.SearchKeyword(knowledgeBaseId, query, Math.Clamp(topK, 1, MaxTopK));
        return [.. hits.Select((h, i) => new SearchResult(h.Chunk, h.Hit.Score, new SearchExplanation(h.Hit.Score, i + 1, h.Hit.Terms, null, null, i + 1)))];
    }
}
