namespace Mulan.Bench.Retrieval;

/// <summary>
/// Recall at 1/5/20 (share of queries with a gold passage in the top k) and MRR over the top 10, with each query's
/// rank of its first gold passage (0 when not in the top <see cref="Depth"/>) for paired comparisons.
/// </summary>
internal sealed record RetrievalScores(double R1, double R5, double R20, double Mrr10, IReadOnlyList<int> Ranks)
{
    public const int Depth = 20;

    public int Queries => Ranks.Count;

    /// <summary>Asks every query of <paramref name="task"/> (in parallel: the engines are thread-safe).</summary>
    public static RetrievalScores Evaluate(RetrievalTask task, Func<string, int, IReadOnlyList<long>> search)
    {
        var ranks = new int[task.Queries.Count];
        Parallel.For(0, task.Queries.Count, i =>
        {
            var query = task.Queries[i];
            var hits = search(query.Text, Depth);
            for (var rank = 0; rank < hits.Count; rank++)
            {
                if (query.Gold.Contains(hits[rank]))
                {
                    ranks[i] = rank + 1;
                    break;
                }
            }
        });

        double n = ranks.Length;
        return new RetrievalScores(
            ranks.Count(r => r is > 0 and <= 1) / n,
            ranks.Count(r => r is > 0 and <= 5) / n,
            ranks.Count(r => r > 0) / n,
            ranks.Sum(ReciprocalRank) / n,
            ranks);
    }

    /// <summary>
    /// MRR@10 of <paramref name="other"/> minus this one's on the same queries, with a 95% paired bootstrap
    /// interval (2,000 resamples of the queries, fixed seed): an interval that spans 0 is no measured difference.
    /// </summary>
    public (double Delta, double Low, double High) CompareMrr(RetrievalScores other)
    {
        var differences = Ranks.Zip(other.Ranks, (mine, theirs) => ReciprocalRank(theirs) - ReciprocalRank(mine)).ToArray();
        var random = new Random(20240601);
        var means = new double[2000];
        for (var b = 0; b < means.Length; b++)
        {
            double sum = 0;
            for (var i = 0; i < differences.Length; i++)
            {
                sum += differences[random.Next(differences.Length)];
            }

            means[b] = sum / differences.Length;
        }

        Array.Sort(means);
        return (differences.Average(), means[(int)(0.025 * means.Length)], means[(int)(0.975 * means.Length) - 1]);
    }

    private static double ReciprocalRank(int rank) => rank is > 0 and <= 10 ? 1.0 / rank : 0;
}
