using System.Runtime.InteropServices;

namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>Chunks analyzed ahead of <see cref="KeywordIndex.Apply"/>, so the costly part of a write runs outside any lock.</summary>
public sealed class KeywordBatch
{
    internal List<(long ChunkId, int Length, KeyValuePair<string, int>[] Counts)> Items { get; } = [];

    public int Count => Items.Count;
}

public sealed partial class KeywordIndex
{
    /// <summary>Analyzes chunks for a later <see cref="Apply"/>; touches no shared state.</summary>
    public KeywordBatch Prepare(IEnumerable<(long ChunkId, string Text)> chunks)
    {
        var batch = new KeywordBatch();
        var terms = new List<string>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (chunkId, text) in chunks)
        {
            terms.Clear();
            counts.Clear();
            Analyzer.Analyze(text, terms);
            foreach (var term in terms)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(counts, term, out _)++;
            }
            batch.Items.Add((chunkId, terms.Count, [.. counts]));
        }
        return batch;
    }

    /// <summary>
    /// Removes <paramref name="remove"/> and adds <paramref name="add"/> as one write: a search sees all of it or none
    /// of it, which is what replacing a document's chunks needs (never both versions, never neither).
    /// </summary>
    public void Apply(IReadOnlyCollection<long> remove, KeywordBatch add)
    {
        ArgumentNullException.ThrowIfNull(remove);
        ArgumentNullException.ThrowIfNull(add);
        lock (_writeLock)
        {
            var current = _snapshot;
            var version = current.Version + 1;
            var live = current.LiveCount;
            var dead = current.DeadCount;
            var liveLength = current.LiveLength;
            var (chunkIds, lengths, removedAt) = EnsureCapacity(current, current.MaxDocument + add.Count);

            void RemoveChunk(long chunkId)
            {
                if (_documentOf.Remove(chunkId, out var document))
                {
                    // Written in the arrays the new snapshot publishes; older snapshots read version-wise and still see it live.
                    removedAt[document] = version;
                    live--;
                    dead++;
                    liveLength -= lengths[document];
                }
            }

            foreach (var chunkId in remove)
            {
                RemoveChunk(chunkId);
            }
            var next = current.MaxDocument;
            foreach (var (chunkId, length, counts) in add.Items)
            {
                RemoveChunk(chunkId);
                var document = next++;
                chunkIds[document] = chunkId;
                lengths[document] = length;
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
                live++;
                liveLength += length;
            }
            if (next == current.MaxDocument && live == current.LiveCount && dead == current.DeadCount)
            {
                return; // nothing changed
            }
            Publish(current with
            {
                ChunkIds = chunkIds,
                Lengths = lengths,
                RemovedAt = removedAt,
                MaxDocument = next,
                Version = version,
                LiveCount = live,
                DeadCount = dead,
                LiveLength = liveLength,
            });
        }
    }
}
