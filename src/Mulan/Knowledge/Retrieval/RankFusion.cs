namespace Mulan.Knowledge.Retrieval;

/// <summary>
/// Reciprocal rank fusion: each ranking contributes weight / (k + rank) to the items it holds. It needs no calibration
/// between BM25 scores and cosine similarities, which live on unrelated scales. Shared by the server and the benchmark,
/// so what is measured is what is served.
/// </summary>
public static class RankFusion
{
    /// <returns>every item of either ranking with its fused score, best first; ties go to the better keyword rank, then the lower id.</returns>
    public static IReadOnlyList<(long Id, double Score)> Fuse(IReadOnlyList<long> keyword, IReadOnlyList<long> vector, double k, double keywordWeight, double vectorWeight)
    {
        var scores = new Dictionary<long, (double Score, int KeywordRank)>(keyword.Count + vector.Count);
        for (var i = 0; i < keyword.Count; i++)
        {
            scores[keyword[i]] = (keywordWeight / (k + i + 1), i);
        }
        for (var i = 0; i < vector.Count; i++)
        {
            var current = scores.TryGetValue(vector[i], out var s) ? s : (0, int.MaxValue);
            scores[vector[i]] = (current.Score + (vectorWeight / (k + i + 1)), current.KeywordRank);
        }
        return [.. scores.OrderByDescending(p => p.Value.Score).ThenBy(p => p.Value.KeywordRank).ThenBy(p => p.Key).Select(p => (p.Key, p.Value.Score))];
    }
}
