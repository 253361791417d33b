using System.Diagnostics;
using Mulan.Knowledge.Indexing.Vector;

namespace Mulan.Bench.Retrieval;

internal sealed record VectorSpeedResult(int Vectors, int Dimensions, double AddsPerSecond, double P50Milliseconds, double P95Milliseconds,
    double P99Milliseconds, double HeapMegabytes);

/// <summary>
/// Exact vector search at scale: random unit vectors of the local encoder's width (the scan costs the same whatever
/// the values), top 50 as hybrid search asks, one query at a time (each query uses every core past 32k vectors).
/// </summary>
internal static class VectorSpeed
{
    public static IReadOnlyList<VectorSpeedResult> Measure(IReadOnlyList<int> sizes, int dimensions, int queries, Action<string> progress)
    {
        var results = new List<VectorSpeedResult>();
        var rng = new Random(42);
        foreach (var size in sizes)
        {
            progress($"vector speed: {size:N0} vectors of {dimensions}");
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            var index = new VectorIndex(dimensions);
            var vector = new float[dimensions];
            var add = Stopwatch.StartNew();
            for (var i = 0; i < size; i++)
            {
                Fill(rng, vector);
                index.Add(i, vector);
            }
            var addsPerSecond = size / add.Elapsed.TotalSeconds;
            var heap = (GC.GetTotalMemory(forceFullCollection: true) - heapBefore) / 1e6;
            for (var w = 0; w < 5; w++)
            {
                Fill(rng, vector);
                index.Search(vector, 50);
            }
            var latencies = new double[queries];
            for (var q = 0; q < queries; q++)
            {
                Fill(rng, vector);
                var clock = Stopwatch.StartNew();
                index.Search(vector, 50);
                latencies[q] = clock.Elapsed.TotalMilliseconds;
            }
            Array.Sort(latencies);
            results.Add(new VectorSpeedResult(size, dimensions, addsPerSecond, Percentile(latencies, 0.50), Percentile(latencies, 0.95),
                Percentile(latencies, 0.99), heap));
            GC.KeepAlive(index);
        }
        return results;
    }

    private static void Fill(Random rng, float[] vector)
    {
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)((rng.NextDouble() * 2) - 1);
        }
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
