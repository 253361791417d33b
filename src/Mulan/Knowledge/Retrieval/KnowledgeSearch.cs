using Microsoft.Extensions.Options;
using Mulan.Knowledge.Embedding;
using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Knowledge.Retrieval;

public enum SearchMode { Hybrid, Keyword, Vector }

/// <summary>Why a chunk ranked where it did. Ranks are 1-based; a null rank means that retriever did not return the chunk.</summary>
public sealed record SearchExplanation(double? KeywordScore, int? KeywordRank, IReadOnlyList<TermContribution> MatchedTerms, double? VectorScore, int? VectorRank,
    int FusedRank, int? RerankRank = null);

public sealed record SearchResult(IndexedChunk Chunk, double Score, SearchExplanation Explanation);

/// <param name="Mode">what actually ran: a hybrid search falls back to keyword when vectors are unavailable.</param>
/// <param name="Warning">why the search did less than asked, for the caller to see.</param>
public sealed record SearchOutcome(IReadOnlyList<SearchResult> Results, SearchMode Mode, string? Warning);

/// <summary>
/// Retrieval over one knowledge base: BM25 over Chinese-aware analysis, exact vector search with the knowledge
/// base's embedding model, and reciprocal rank fusion of the two (<see cref="RankFusion"/>); its weights and constant
/// are settings, measured in the benchmark. The bundled encoder is English-only, so a query that is mostly Chinese is
/// answered by keyword search alone when a knowledge base uses it.
/// A knowledge base with a rerank model then has the best fused candidates reordered by it.
/// </summary>
public sealed class KnowledgeSearch(KnowledgeIndex index, KnowledgeEmbedder embedder, LlmReranker reranker, IOptions<KnowledgeOptions> options)
{
    public const int MaxTopK = 50;

    /// <param name="mode">null: hybrid when the knowledge base has an embedding model, else keyword.</param>
    /// <param name="rerank">rerank with the knowledge base's rerank model (null: when it has one).</param>
    /// <param name="weights">hybrid fusion weights in place of the configured ones (an app's retrieval settings).</param>
    public async Task<SearchOutcome> SearchAsync(KnowledgeBase kb, string query, int topK, SearchMode? mode, bool? rerank, CancellationToken ct,
        (double Keyword, double Vector)? weights = null)
    {
        topK = Math.Clamp(topK, 1, MaxTopK);
        if (kb.RerankModel is not { } rerankModel || rerank == false)
        {
            return await RetrieveAsync(kb, query, topK, mode, weights, ct);
        }
        var candidates = await RetrieveAsync(kb, query, Math.Max(topK, options.Value.RerankDepth), mode, weights, ct);
        var (reranked, warning) = await reranker.RerankAsync(kb, rerankModel, query, candidates.Results, ct);
        return candidates with
        {
            Results = [.. reranked.Take(topK)],
            Warning = string.Join("; ", new[] { candidates.Warning, warning }.OfType<string>()) is { Length: > 0 } w ? w : null,
        };
    }

    private async Task<SearchOutcome> RetrieveAsync(KnowledgeBase kb, string query, int topK, SearchMode? mode, (double Keyword, double Vector)? weights,
        CancellationToken ct)
    {
        if (mode == SearchMode.Keyword || kb.EmbeddingModel is null)
        {
            var warning = mode is SearchMode.Hybrid or SearchMode.Vector ? "this knowledge base has no embedding model: keyword search only" : null;
            return new SearchOutcome(Keyword(kb.Id, query, topK), SearchMode.Keyword, warning);
        }
        if (KnowledgeEmbedder.Unsuited(kb.EmbeddingModel, query) is { } unsuited)
        {
            // Measured: fusing an English-only encoder's near-random ranking of Chinese text halves MRR (docs/benchmarks.md).
            return new SearchOutcome(Keyword(kb.Id, query, topK), SearchMode.Keyword, mode is SearchMode.Hybrid or SearchMode.Vector ? unsuited : null);
        }
        float[] vector;
        try
        {
            vector = (await embedder.EmbedAsync(kb.EmbeddingModel, kb.WorkspaceId, [query], ct))[0];
        }
        catch (EmbeddingException e)
        {
            // Keyword search still answers; the caller is told what is missing rather than getting an error.
            return new SearchOutcome(Keyword(kb.Id, query, topK), SearchMode.Keyword, $"vector search unavailable, keyword results only: {e.Message}");
        }
        if (mode == SearchMode.Vector)
        {
            var hits = index.SearchVector(kb.Id, kb.EmbeddingModel, vector, topK);
            return new SearchOutcome(
                [.. hits.Select((h, i) => new SearchResult(h.Chunk, h.Hit.Score, new SearchExplanation(null, null, [], h.Hit.Score, i + 1, i + 1)))],
                SearchMode.Vector, null);
        }
        return new SearchOutcome(Fuse(kb.Id, query, vector, kb.EmbeddingModel, topK, weights), SearchMode.Hybrid, null);
    }

    /// <summary>Keyword-only search (no embedding call).</summary>
    public IReadOnlyList<SearchResult> Keyword(string knowledgeBaseId, string query, int topK)
    {
        var hits = index.SearchKeyword(knowledgeBaseId, query, Math.Clamp(topK, 1, MaxTopK));
        return [.. hits.Select((h, i) => new SearchResult(h.Chunk, h.Hit.Score, new SearchExplanation(h.Hit.Score, i + 1, h.Hit.Terms, null, null, i + 1)))];
    }

    private IReadOnlyList<SearchResult> Fuse(string knowledgeBaseId, string query, float[] vector, string model, int topK, (double Keyword, double Vector)? weights)
    {
        var o = options.Value.Hybrid;
        var depth = Math.Max(topK, o.Depth);
        // Both sides from one state of the index, so a document being replaced is fused in one version only.
        var (keyword, semantic) = index.SearchBoth(knowledgeBaseId, query, model, vector, depth);
        var candidates = new Dictionary<long, Candidate>();
        for (var i = 0; i < keyword.Count; i++)
        {
            var (chunk, hit) = keyword[i];
            candidates[chunk.Id] = new Candidate(chunk) { KeywordScore = hit.Score, KeywordRank = i + 1, Terms = hit.Terms };
        }
        for (var i = 0; i < semantic.Count; i++)
        {
            var (chunk, hit) = semantic[i];
            if (!candidates.TryGetValue(chunk.Id, out var c))
            {
                candidates[chunk.Id] = c = new Candidate(chunk);
            }
            c.VectorScore = hit.Score;
            c.VectorRank = i + 1;
        }
        var fused = RankFusion.Fuse([.. keyword.Select(k => k.Chunk.Id)], [.. semantic.Select(v => v.Chunk.Id)], o.RankConstant, weights?.Keyword ?? o.KeywordWeight, weights?.Vector ?? o.VectorWeight);
        return [.. fused.Take(topK).Select((f, i) =>
        {
            var c = candidates[f.Id];
            return new SearchResult(c.Chunk, f.Score, new SearchExplanation(c.KeywordScore, c.KeywordRank, c.Terms, c.VectorScore, c.VectorRank, i + 1));
        })];
    }

    private sealed class Candidate(IndexedChunk chunk)
    {
        public IndexedChunk Chunk { get; } = chunk;
        public double? KeywordScore { get; set; }
        public int? KeywordRank { get; set; }
        public IReadOnlyList<TermContribution> Terms { get; set; } = [];
        public double? VectorScore { get; set; }
        public int? VectorRank { get; set; }
    }
}
