using System.Buffers;
using System.Runtime.InteropServices;

namespace Mulan.Knowledge.Indexing.Keyword;

public sealed partial class KeywordIndex
{
    /// <summary>
    /// The <paramref name="topK"/> chunks with the highest BM25 score for <paramref name="query"/>, best first
    /// (equal scores: the chunk added first), each with the terms that scored it. Chunks that share no term with
    /// the query are never returned.
    /// </summary>
    /// <param name="filter">When given, only chunks for which it returns true; it may be called for every matching chunk.</param>
    public IReadOnlyList<KeywordHit> Search(string query, int topK, Func<long, bool>? filter = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        var snapshot = Volatile.Read(ref _snapshot);
        if (topK == 0 || snapshot.LiveCount == 0)
        {
            return [];
        }

        var queryTerms = Prepare(query, snapshot);
        if (queryTerms.Count == 0)
        {
            return [];
        }

        var scores = ArrayPool<double>.Shared.Rent(snapshot.MaxDocument);
        var touched = ArrayPool<int>.Shared.Rent(snapshot.MaxDocument);
        try
        {
            Array.Clear(scores, 0, snapshot.MaxDocument);
            var touchedCount = Accumulate(queryTerms, snapshot, scores, touched);
            var best = SelectTop(snapshot, scores, touched.AsSpan(0, touchedCount), topK, filter);
            var hits = new KeywordHit[best.Count];
            for (var i = 0; i < hits.Length; i++)
            {
                var document = best[i];
                hits[i] = new KeywordHit(snapshot.ChunkIds[document], scores[document], Explain(queryTerms, snapshot, document));
            }

            return hits;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(touched);
            ArrayPool<double>.Shared.Return(scores);
        }
    }

    private List<QueryTerm> Prepare(string query, IndexSnapshot snapshot)
    {
        var terms = new List<string>();
        Analyzer.Analyze(query, terms);
        var repeats = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var term in terms)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(repeats, term, out _)++;
        }

        var documents = (double)snapshot.LiveCount;
        var prepared = new List<QueryTerm>(repeats.Count);
        foreach (var (term, repeat) in repeats)
        {
            if (!snapshot.Terms.TryGetValue(term, out var postings))
            {
                continue;
            }

            var count = postings.Count;
            var entries = postings.Entries;
            var visible = Postings.CountBelow(entries, count, snapshot.MaxDocument);
            var frequency = snapshot.DeadCount == 0 ? visible : CountLive(snapshot, entries, visible);
            if (frequency > 0)
            {
                var idf = Math.Log(1 + ((documents - frequency + 0.5) / (frequency + 0.5)));
                prepared.Add(new QueryTerm(term, repeat * idf, entries, visible));
            }
        }

        // Rarest first: the explanation lists terms in this order when contributions tie.
        prepared.Sort((x, y) => x.Count.CompareTo(y.Count));
        return prepared;
    }

    /// <summary>The document frequency among live chunks, when some postings belong to removed ones.</summary>
    private static int CountLive(IndexSnapshot snapshot, int[] entries, int count)
    {
        var live = 0;
        for (var i = 0; i < count; i++)
        {
            live += snapshot.IsLive(entries[2 * i]) ? 1 : 0;
        }

        return live;
    }

    private int Accumulate(List<QueryTerm> queryTerms, IndexSnapshot snapshot, double[] scores, int[] touched)
    {
        var lengths = snapshot.Lengths;
        var (constant, lengthWeight) = LengthNorm(snapshot);
        var touchedCount = 0;
        foreach (var term in queryTerms)
        {
            var entries = term.Entries;
            var weight = term.Weight * (K1 + 1);
            for (var i = 0; i < term.Count; i++)
            {
                var document = entries[2 * i];
                ref var score = ref scores[document];
                if (score == 0)
                {
                    touched[touchedCount++] = document;
                }

                score += Contribution(weight, entries[(2 * i) + 1], constant + (lengthWeight * lengths[document]));
            }
        }

        return touchedCount;
    }

    private static List<int> SelectTop(
        IndexSnapshot snapshot, double[] scores, ReadOnlySpan<int> touched, int topK, Func<long, bool>? filter)
    {
        // A min-heap of the best so far: the root is the weakest (lowest score, then latest document).
        var heap = new PriorityQueue<int, (double Score, int Document)>(Math.Min(topK, touched.Length) + 1, WeakestFirst.Instance);
        foreach (var document in touched)
        {
            var score = scores[document];
            if (heap.Count == topK)
            {
                heap.TryPeek(out _, out var weakest);
                if (WeakestFirst.Instance.Compare((score, document), weakest) <= 0)
                {
                    continue;
                }
            }

            if (!snapshot.IsLive(document) || (filter is not null && !filter(snapshot.ChunkIds[document])))
            {
                continue;
            }

            heap.Enqueue(document, (score, document));
            if (heap.Count > topK)
            {
                heap.Dequeue();
            }
        }

        var best = new List<int>(heap.Count);
        while (heap.TryDequeue(out var document, out _))
        {
            best.Add(document);
        }

        best.Reverse();
        return best;
    }

    private TermContribution[] Explain(List<QueryTerm> queryTerms, IndexSnapshot snapshot, int document)
    {
        // The same arithmetic in the same term order as Accumulate, so the contributions add up to the score exactly.
        var (constant, lengthWeight) = LengthNorm(snapshot);
        var norm = constant + (lengthWeight * snapshot.Lengths[document]);
        var contributions = new List<TermContribution>();
        foreach (var term in queryTerms)
        {
            var frequency = Postings.FrequencyOf(term.Entries, term.Count, document);
            if (frequency > 0)
            {
                contributions.Add(new TermContribution(term.Term, Contribution(term.Weight * (K1 + 1), frequency, norm)));
            }
        }

        contributions.Sort((x, y) => y.Score.CompareTo(x.Score));
        return [.. contributions];
    }

    /// <summary>BM25's per-document length normalization k1 x (1 - b + b x length / average) as constant + weight x length.</summary>
    private (double Constant, double LengthWeight) LengthNorm(IndexSnapshot snapshot)
    {
        var average = snapshot.LiveLength == 0 ? 1 : (double)snapshot.LiveLength / snapshot.LiveCount;
        return (K1 * (1 - B), K1 * B / average);
    }

    /// <summary>weight x (k1 + 1) already folded into <paramref name="weight"/>; <paramref name="norm"/> from LengthNorm.</summary>
    private static double Contribution(double weight, double frequency, double norm) => weight * frequency / (frequency + norm);

    /// <summary>A query term present in the snapshot: Weight = repeats x idf; its first Count postings are below MaxDocument.</summary>
    private sealed record QueryTerm(string Term, double Weight, int[] Entries, int Count);

    private sealed class WeakestFirst : IComparer<(double Score, int Document)>
    {
        public static WeakestFirst Instance { get; } = new();

        public int Compare((double Score, int Document) x, (double Score, int Document) y)
        {
            var byScore = x.Score.CompareTo(y.Score);
            return byScore != 0 ? byScore : y.Document.CompareTo(x.Document);
        }
    }
}
