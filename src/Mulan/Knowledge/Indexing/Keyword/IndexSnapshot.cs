using System.Collections.Concurrent;

namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>
/// What one search sees: an immutable view over the append-only store, published by the writer after each
/// change. Documents are numbered in the order they were added; document d is visible when
/// d &lt; <see cref="MaxDocument"/> and it was not removed at or before <see cref="Version"/>. The arrays are
/// the ones current at publication: the writer grows them by copying, so they hold every document below
/// <see cref="MaxDocument"/>. <see cref="DeadCount"/> documents below MaxDocument are removed but still in the
/// postings until the next compaction; <see cref="LiveCount"/> and <see cref="LiveLength"/> leave them out.
/// </summary>
internal sealed record IndexSnapshot(
    ConcurrentDictionary<string, Postings> Terms,
    long[] ChunkIds,
    int[] Lengths,
    long[] RemovedAt,
    int MaxDocument,
    long Version,
    int LiveCount,
    int DeadCount,
    long LiveLength)
{
    public const long NotRemoved = long.MaxValue;

    /// <summary>A new, empty store: every index owns its own term dictionary, which the writer fills in place.</summary>
    public static IndexSnapshot CreateEmpty() => new(new(StringComparer.Ordinal), [], [], [], 0, 0, 0, 0, 0);

    public bool IsLive(int document) => RemovedAt[document] > Version;
}
