using System.Numerics.Tensors;

namespace Mulan.Knowledge.Indexing.Vector;

/// <summary>A vector search hit: the chunk and its cosine similarity to the query.</summary>
public readonly record struct VectorHit(long ChunkId, float Score);

/// <summary>
/// Exact nearest-neighbour search over unit vectors (cosine = dot product), one index per knowledge base and
/// embedding model. Exact rather than approximate on purpose: a million 384-dimension chunks is 1.5 GB and one
/// SIMD pass over it (TensorPrimitives.Dot) is tens of milliseconds on two cores, with no recall loss, no
/// build step and no tuning — an approximate graph would only pay off well beyond the sizes this process serves.
/// <para>
/// Rows live in blocks of 4,096; full blocks never move, and only the last one grows (from 16 rows, doubling, by
/// copying it into a new block list), so a small knowledge base costs kilobytes and a search runs without a lock
/// while a writer appends: a reader sees the row count published after the row is written, and scans no further
/// than the blocks it holds. Removal marks the row's id as
/// deleted; removed rows are reused by later additions.
/// </para>
/// </summary>
public sealed class VectorIndex
{
    private const int BlockRows = 4096;
    private const int FirstBlockRows = 16;
    private const long Deleted = -1;
    // Below this many rows one core is faster than the cost of fanning out.
    private const int ParallelThreshold = 32_768;

    private readonly Lock _write = new();
    private readonly Dictionary<long, int> _rowOf = [];
    private readonly Stack<int> _free = new();
    private Block[] _blocks = [];
    private int _rows;

    public VectorIndex(int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        Dimensions = dimensions;
    }

    public int Dimensions { get; }

    /// <summary>Live vectors (added and not removed).</summary>
    public int Count
    {
        get
        {
            lock (_write)
            {
                return _rowOf.Count;
            }
        }
    }

    /// <summary>Adds or replaces the vector of a chunk. The vector is normalised to unit length on the way in.</summary>
    public void Add(long chunkId, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimensions)
        {
            throw new ArgumentException($"expected a vector of {Dimensions} dimensions, got {vector.Length}", nameof(vector));
        }
        lock (_write)
        {
            if (_rowOf.TryGetValue(chunkId, out var existing))
            {
                Write(existing, chunkId, vector);
                return;
            }
            var row = _free.Count > 0 ? _free.Pop() : Append();
            Write(row, chunkId, vector);
            _rowOf[chunkId] = row;
        }
    }

    public bool Remove(long chunkId)
    {
        lock (_write)
        {
            if (!_rowOf.Remove(chunkId, out var row))
            {
                return false;
            }
            Volatile.Write(ref _blocks[row / BlockRows].Ids[row % BlockRows], Deleted);
            _free.Push(row);
            return true;
        }
    }

    /// <summary>The <paramref name="topK"/> most similar chunks, best first.</summary>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int topK)
    {
        if (query.Length != Dimensions)
        {
            throw new ArgumentException($"expected a query of {Dimensions} dimensions, got {query.Length}", nameof(query));
        }
        var blocks = Volatile.Read(ref _blocks);
        var rows = Volatile.Read(ref _rows);
        var blockCountSeen = blocks.Length;
        if (rows == 0 || topK < 1)
        {
            return [];
        }
        var q = Normalized(query);
        var blockCount = Math.Min(blockCountSeen, (rows + BlockRows - 1) / BlockRows);
        if (rows < ParallelThreshold)
        {
            var top = new TopK(topK);
            for (var b = 0; b < blockCount; b++)
            {
                ScanBlock(blocks[b], Math.Min(BlockRows, rows - (b * BlockRows)), q, top);
            }
            return top.Drain();
        }
        var partial = new TopK[Environment.ProcessorCount];
        Parallel.For(0, partial.Length, worker =>
        {
            var top = new TopK(topK);
            for (var b = worker; b < blockCount; b += partial.Length)
            {
                ScanBlock(blocks[b], Math.Min(BlockRows, rows - (b * BlockRows)), q, top);
            }
            partial[worker] = top;
        });
        var merged = new TopK(topK);
        foreach (var p in partial)
        {
            foreach (var hit in p.Drain())
            {
                merged.Offer(hit.ChunkId, hit.Score);
            }
        }
        return merged.Drain();
    }

    private void ScanBlock(Block block, int rows, float[] query, TopK top)
    {
        // The row count may be newer than this block list: a row beyond a (since grown) block is not there yet for us.
        rows = Math.Min(rows, block.Ids.Length);
        var vectors = block.Vectors.AsSpan();
        for (var r = 0; r < rows; r++)
        {
            var id = Volatile.Read(ref block.Ids[r]);
            if (id == Deleted)
            {
                continue;
            }
            top.Offer(id, TensorPrimitives.Dot(vectors.Slice(r * Dimensions, Dimensions), query));
        }
    }

    private int Append()
    {
        var row = _rows;
        var b = row / BlockRows;
        var offset = row % BlockRows;
        if (b == _blocks.Length || offset == _blocks[b].Ids.Length)
        {
            // A small knowledge base must not cost a full block: the last block starts small and doubles up to
            // BlockRows. Growing copies it into a new list; a search still holding the old one scans what it saw.
            var grown = new Block[b + 1];
            Array.Copy(_blocks, grown, b);
            var capacity = b == _blocks.Length ? FirstBlockRows : Math.Min(BlockRows, _blocks[b].Ids.Length * 2);
            var block = new Block(new float[capacity * Dimensions], Enumerable.Repeat(Deleted, capacity).ToArray());
            if (b < _blocks.Length)
            {
                _blocks[b].Vectors.CopyTo(block.Vectors, 0);
                _blocks[b].Ids.CopyTo(block.Ids, 0);
            }
            grown[b] = block;
            Volatile.Write(ref _blocks, grown);
        }
        return row;
    }

    private void Write(int row, long chunkId, ReadOnlySpan<float> vector)
    {
        var block = _blocks[row / BlockRows];
        var offset = row % BlockRows;
        // A reader may be scanning this row: hide it while its values change, then publish it with its id.
        Volatile.Write(ref block.Ids[offset], Deleted);
        var target = block.Vectors.AsSpan(offset * Dimensions, Dimensions);
        vector.CopyTo(target);
        var norm = TensorPrimitives.Norm(target);
        if (norm > 0)
        {
            TensorPrimitives.Divide(target, norm, target);
        }
        Volatile.Write(ref block.Ids[offset], chunkId);
        if (row == _rows)
        {
            Volatile.Write(ref _rows, row + 1);
        }
    }

    private static float[] Normalized(ReadOnlySpan<float> vector)
    {
        var copy = vector.ToArray();
        var norm = TensorPrimitives.Norm(copy);
        if (norm > 0)
        {
            TensorPrimitives.Divide(copy, norm, copy);
        }
        return copy;
    }

    private sealed record Block(float[] Vectors, long[] Ids);

    /// <summary>A bounded min-heap: keeps the k best scores seen (ties broken by the lower chunk id, for stable results).</summary>
    private sealed class TopK(int k)
    {
        private readonly PriorityQueue<long, (float Score, long NegId)> _heap = new(k + 1);

        public void Offer(long id, float score)
        {
            if (_heap.Count == k)
            {
                _heap.TryPeek(out _, out var worst);
                if (score < worst.Score || (score == worst.Score && -id <= worst.NegId))
                {
                    return;
                }
                _heap.DequeueEnqueue(id, (score, -id));
                return;
            }
            _heap.Enqueue(id, (score, -id));
        }

        public IReadOnlyList<VectorHit> Drain()
        {
            var hits = new VectorHit[_heap.Count];
            for (var i = hits.Length - 1; i >= 0; i--)
            {
                _heap.TryDequeue(out var id, out var p);
                hits[i] = new VectorHit(id, p.Score);
            }
            return hits;
        }
    }
}
