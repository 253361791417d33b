namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>A chunk found by <see cref="KeywordIndex.Search"/>, with the terms that put it there.</summary>
/// <param name="ChunkId">The id the chunk was added under.</param>
/// <param name="Score">The BM25 score: the sum of <paramref name="Terms"/>' scores.</param>
/// <param name="Terms">The query terms found in the chunk, largest contribution first.</param>
public sealed record KeywordHit(long ChunkId, double Score, IReadOnlyList<TermContribution> Terms);

/// <summary>One query term's share of a hit's score.</summary>
/// <param name="Term">The term as analyzed (folded, stemmed), e.g. 台湾 for a query that said 臺灣.</param>
/// <param name="Score">Its BM25 contribution: query frequency x IDF x saturated term frequency.</param>
public sealed record TermContribution(string Term, double Score);
