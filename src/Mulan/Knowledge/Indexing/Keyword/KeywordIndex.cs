using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>
/// An in-memory BM25 index over chunks of text, for keyword retrieval in knowledge bases.
/// <para>
/// Why our own inverted index rather than Lucene.Net 4.8: measured side by side with the same analyzer
/// (<c>bench/Mulan.Bench/Retrieval</c>), both find the same passages (MRR@10 0.911 here, 0.908 Lucene on the pooled
/// set; Lucene rounds document lengths to one byte), while at 100,000 chunks this one searches about six times faster
/// (p50 0.8 ms, p95 1.5 ms against 5.2 and 10 ms), builds about 1.4 times faster (8.4 against 5.9 MB/s, one
/// thread), makes a chunk searchable the moment Add returns (no commit and reopen), and explains every hit exactly
/// at no extra cost. The price is memory: uncompressed postings take about 2 KB per 256-character chunk, seven
/// times Lucene's.
/// </para>
/// <para>
/// Concurrency: any number of searches run in parallel with writes and never take a lock. Writers (Add, Remove)
/// are serialized; Add analyzes its text before taking the write lock, so concurrent adders overlap analysis with
/// insertion.
/// Each write publishes a new immutable <see cref="IndexSnapshot"/>; a search reads one snapshot and sees every
/// write before it and none after it (an updated chunk is either the old or the new text, never both).
/// </para>
/// <para>
/// Scoring is Lucene's BM25: for each query term t (repeated terms count once per repeat)
/// idf(t) x tf x (k1 + 1) / (tf + k1 x (1 - b + b x length / average length)), with
/// idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)), length in terms. N, df and the average length are those of the
/// chunks in the index, exactly as if it had been built from them alone (Lucene counts removed documents until
/// a merge; this index does not). Removed chunks stay in the postings, skipped, until they are a quarter of all,
/// when the index compacts.
/// </para>
/// </summary>
public sealed partial class KeywordIndex
{
    [ThreadStatic]
    private static List<string>? t_terms;

    [ThreadStatic]
    private static Dictionary<string, int>? t_counts;

    private readonly Lock _writeLock = new();
    private readonly Dictionary<long, int> _documentOf = [];
    private IndexSnapshot _snapshot = IndexSnapshot.CreateEmpty();

    /// <param name="analyzer">Turns chunks and queries into terms; see <see cref="TextAnalyzers"/>.</param>
    /// <param name="k1">
    /// Term-frequency saturation, default 1.2: 0 ignores repeats, larger values keep rewarding them
    /// (usual range 0.5 to 2).
    /// </param>
    /// <param name="b">
    /// Length normalization, default 0.75: 0 ignores chunk length, 1 fully divides by the chunk's length relative
    /// to the average.
    /// </param>
    public KeywordIndex(ITextAnalyzer analyzer, double k1 = 1.2, double b = 0.75)
    {
        ArgumentNullException.ThrowIfNull(analyzer);
        if (k1 < 0 || double.IsNaN(k1) || double.IsInfinity(k1))
        {
            throw new ArgumentOutOfRangeException(nameof(k1), k1, "k1 must be a finite number, 0 or more.");
        }

        if (b is < 0 or > 1 || double.IsNaN(b))
        {
            throw new ArgumentOutOfRangeException(nameof(b), b, "b must be between 0 and 1.");
        }

        Analyzer = analyzer;
        K1 = k1;
        B = b;
    }

    public ITextAnalyzer Analyzer { get; }

    public double K1 { get; }

    public double B { get; }

    /// <summary>The number of chunks in the index.</summary>
    public int Count => Volatile.Read(ref _snapshot).LiveCount;

    /// <summary>Adds a chunk, or replaces the chunk already added under <paramref name="chunkId"/>.</summary>
    public void Add(long chunkId, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var terms = t_terms ??= [];
        var counts = t_counts ??= new(StringComparer.Ordinal);
        terms.Clear();
        counts.Clear();
        Analyzer.Analyze(text, terms);
        foreach (var term in terms)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(counts, term, out _)++;
        }

        lock (_writeLock)
        {
            var current = _snapshot;
            var version = current.Version + 1;
            var live = current.LiveCount + 1;
            var dead = current.DeadCount;
            var liveLength = current.LiveLength + terms.Count;
            if (_documentOf.TryGetValue(chunkId, out var previous))
            {
                current.RemovedAt[previous] = version;
                live--;
                dead++;
                liveLength -= current.Lengths[previous];
            }

            var document = current.MaxDocument;
            var (chunkIds, lengths, removedAt) = EnsureCapacity(current, document + 1);
            chunkIds[document] = chunkId;
            lengths[document] = terms.Count;
            removedAt[document] = IndexSnapshot.NotRemoved;
            foreach (var (term, frequency) in counts)
            {
                if (!current.Terms.TryGetValue(term, out var postings))
                {
                    postings = new Postings();
                    current.Terms[term] = postings;
                }

                postings.Append(document, frequency);
            }

            _documentOf[chunkId] = document;
            Publish(current with
            {
                ChunkIds = chunkIds,
                Lengths = lengths,
                RemovedAt = removedAt,
                MaxDocument = document + 1,
                Version = version,
                LiveCount = live,
                DeadCount = dead,
                LiveLength = liveLength,
            });
        }
    }

    /// <summary>Removes a chunk; false when there was none under <paramref name="chunkId"/>.</summary>
    public bool Remove(long chunkId)
    {
        lock (_writeLock)
        {
            if (!_documentOf.Remove(chunkId, out var document))
            {
                return false;
            }

            var current = _snapshot;
            var version = current.Version + 1;
            current.RemovedAt[document] = version;
            Publish(current with
            {
                Version = version,
                LiveCount = current.LiveCount - 1,
                DeadCount = current.DeadCount + 1,
                LiveLength = current.LiveLength - current.Lengths[document],
            });
            return true;
        }
    }

    private void Publish(IndexSnapshot next)
    {
        Volatile.Write(ref _snapshot, next);
        if (next.DeadCount * 4L > next.MaxDocument)
        {
            Compact(next);
        }
    }

    private static (long[] ChunkIds, int[] Lengths, long[] RemovedAt) EnsureCapacity(IndexSnapshot current, int size)
    {
        if (size <= current.ChunkIds.Length)
        {
            return (current.ChunkIds, current.Lengths, current.RemovedAt);
        }

        var capacity = Math.Max(16, current.ChunkIds.Length * 2);
        while (capacity < size)
        {
            capacity *= 2; // a batch may add more than the doubling makes room for
        }
        var chunkIds = new long[capacity];
        var lengths = new int[capacity];
        var removedAt = new long[capacity];
        Array.Copy(current.ChunkIds, chunkIds, current.MaxDocument);
        Array.Copy(current.Lengths, lengths, current.MaxDocument);
        Array.Copy(current.RemovedAt, removedAt, current.MaxDocument);
        return (chunkIds, lengths, removedAt);
    }

    /// <summary>
    /// Rewrites the store without removed chunks, renumbering documents, and publishes it. Searches still running
    /// on an older snapshot keep the old store. Costs one pass over all postings, which a quarter of the
    /// documents being dead amortizes.
    /// </summary>
    private void Compact(IndexSnapshot current)
    {
        var renumbered = new int[current.MaxDocument];
        var live = 0;
        for (var document = 0; document < current.MaxDocument; document++)
        {
            renumbered[document] = current.IsLive(document) ? live++ : -1;
        }

        var chunkIds = new long[Math.Max(16, live)];
        var lengths = new int[chunkIds.Length];
        var removedAt = new long[chunkIds.Length];
        long liveLength = 0;
        for (var document = 0; document < current.MaxDocument; document++)
        {
            var target = renumbered[document];
            if (target >= 0)
            {
                chunkIds[target] = current.ChunkIds[document];
                lengths[target] = current.Lengths[document];
                removedAt[target] = IndexSnapshot.NotRemoved;
                liveLength += lengths[target];
                _documentOf[chunkIds[target]] = target;
            }
        }

        var terms = new ConcurrentDictionary<string, Postings>(StringComparer.Ordinal);
        foreach (var (term, postings) in current.Terms)
        {
            var count = postings.Count;
            var entries = postings.Entries;
            var kept = 0;
            for (var i = 0; i < count; i++)
            {
                kept += renumbered[entries[2 * i]] >= 0 ? 1 : 0;
            }

            if (kept == 0)
            {
                continue;
            }

            var compacted = new int[2 * kept];
            var j = 0;
            for (var i = 0; i < count; i++)
            {
                var target = renumbered[entries[2 * i]];
                if (target >= 0)
                {
                    compacted[j++] = target;
                    compacted[j++] = entries[(2 * i) + 1];
                }
            }

            terms[term] = new Postings(compacted, kept);
        }

        Volatile.Write(ref _snapshot, new IndexSnapshot(
            terms, chunkIds, lengths, removedAt, live, current.Version, live, 0, liveLength));
    }
}
