using Mulan.Knowledge.Indexing.Vector;

namespace Mulan.Tests.Knowledge.Vectors;

public sealed class VectorIndexTests
{
    private static float[] Random(Random rng, int dimensions) => [.. Enumerable.Range(0, dimensions).Select(_ => (float)((rng.NextDouble() * 2) - 1))];

    private static float Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return (float)(dot / Math.Sqrt(na * nb));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(500)]
    [InlineData(4100)] // one full block and a small one
    [InlineData(40_000)] // above the parallel threshold: the fan-out must give the same answer
    public void Search_returns_exactly_the_brute_force_top_k(int rows)
    {
        var rng = new Random(rows);
        var index = new VectorIndex(48);
        var vectors = new Dictionary<long, float[]>();
        for (var i = 0; i < rows; i++)
        {
            var v = Random(rng, 48);
            vectors[i + 1000] = v;
            index.Add(i + 1000, v);
        }
        for (var q = 0; q < 5; q++)
        {
            var query = Random(rng, 48);
            var expected = vectors.Select(kv => (Id: kv.Key, Score: Cosine(kv.Value, query))).OrderByDescending(x => x.Score).Take(10).ToList();
            var actual = index.Search(query, 10);
            Assert.Equal(expected.Select(e => e.Id), actual.Select(a => a.ChunkId));
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Score, actual[i].Score, 4);
            }
        }
    }

    [Fact]
    public void Removed_vectors_are_never_returned_and_their_rows_are_reused()
    {
        var index = new VectorIndex(3);
        index.Add(1, [1, 0, 0]);
        index.Add(2, [0.9f, 0.1f, 0]);
        index.Add(3, [0, 1, 0]);
        Assert.True(index.Remove(1));
        Assert.False(index.Remove(1));
        Assert.Equal([2L, 3L], index.Search([1, 0, 0], 5).Select(h => h.ChunkId));
        index.Add(4, [1, 0, 0]);
        Assert.Equal(3, index.Count);
        Assert.Equal(4L, index.Search([1, 0, 0], 1)[0].ChunkId);
        Assert.Equal(1f, index.Search([2, 0, 0], 1)[0].Score, 5); // stored and queried vectors are normalised
    }

    [Fact]
    public void Adding_the_same_chunk_again_replaces_its_vector()
    {
        var index = new VectorIndex(2);
        index.Add(7, [1, 0]);
        index.Add(7, [0, 1]);
        Assert.Equal(1, index.Count);
        var hit = Assert.Single(index.Search([0, 1], 5));
        Assert.Equal(1f, hit.Score, 5);
    }

    [Fact]
    public void A_small_index_does_not_allocate_a_full_block()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var index = new VectorIndex(384);
        for (var i = 0; i < 10; i++)
        {
            index.Add(i, Enumerable.Repeat(1f, 384).ToArray());
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(allocated, 1, 200_000); // a full block would be 4096 x 384 floats, 6 MB
        Assert.Equal(10, index.Search(Enumerable.Repeat(1f, 384).ToArray(), 20).Count);
    }

    [Fact]
    public void Wrong_dimensions_are_refused()
    {
        var index = new VectorIndex(4);
        Assert.Throws<ArgumentException>(() => index.Add(1, [1, 2, 3]));
        Assert.Throws<ArgumentException>(() => index.Search([1, 2, 3], 1));
        Assert.Empty(index.Search([1, 2, 3, 4], 3));
    }

    [Fact]
    public async Task Searches_running_while_vectors_are_added_and_removed_see_only_live_chunks()
    {
        var index = new VectorIndex(16);
        var rng = new Random(5);
        var live = new System.Collections.Concurrent.ConcurrentDictionary<long, bool>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var writer = Task.Run(() =>
        {
            for (long id = 1; id <= 20_000 && !stop.IsCancellationRequested; id++)
            {
                index.Add(id, Random(new Random((int)id), 16));
                live[id] = true;
                if (id % 3 == 0)
                {
                    live.TryRemove(id - 1, out _);
                    index.Remove(id - 1);
                }
            }
        });
        var searches = 0;
        while (!writer.IsCompleted)
        {
            foreach (var hit in index.Search(Random(rng, 16), 20))
            {
                Assert.True(hit.ChunkId > 0);
                Assert.InRange(hit.Score, -1.0001f, 1.0001f);
            }
            searches++;
        }
        await writer;
        Assert.True(searches > 10);
        // After the writer stops, the index holds exactly the live set.
        Assert.Equal(live.Count, index.Count);
        var all = index.Search(Random(rng, 16), live.Count + 10);
        Assert.Equal(live.Keys.Order(), all.Select(h => h.ChunkId).Order());
    }
}
