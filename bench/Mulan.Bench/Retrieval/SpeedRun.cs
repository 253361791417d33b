using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Mulan.Bench.Retrieval;

/// <summary>Index build throughput and search latency of one engine with one analyzer, at a given corpus size.</summary>
internal sealed record SpeedResult(
    string Analyzer,
    string Engine,
    int Chunks,
    double BuildMegabytesPerSecond,
    double ParallelBuildMegabytesPerSecond,
    double P50Milliseconds,
    double P95Milliseconds,
    double P99Milliseconds,
    double ParallelQueriesPerSecond,
    double HeapMegabytes);

internal static class SpeedRun
{
    /// <summary>
    /// Builds the index <paramref name="rounds"/> times on one thread and as many on
    /// <see cref="Environment.ProcessorCount"/> threads (MB/s of UTF-8 text until searchable), then asks every
    /// query once per round in a shuffled order on one thread. Every figure is the median over the rounds. The heap
    /// figure is the managed heap the last index adds, measured after a full collection.
    /// </summary>
    public static SpeedResult Measure(
        string analyzer, Func<IRetrievalEngine> create, IReadOnlyList<Passage> chunks, IReadOnlyList<string> queries, int rounds)
    {
        double megabytes = chunks.Sum(c => (long)Encoding.UTF8.GetByteCount(c.Text)) / 1e6;
        var buildRates = new List<double>();
        var parallelRates = new List<double>();
        IRetrievalEngine? index = null;
        double heap = 0;
        for (var round = 0; round < rounds; round++)
        {
            parallelRates.Add(megabytes / ParallelBuild(create, chunks).TotalSeconds);
            index?.Dispose();
            index = null;
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            var build = Stopwatch.StartNew();
            index = create();
            foreach (var chunk in chunks)
            {
                index.Add(chunk.Id, chunk.Text);
            }

            index.Commit();
            buildRates.Add(megabytes / build.Elapsed.TotalSeconds);
            heap = (GC.GetTotalMemory(forceFullCollection: true) - heapBefore) / 1e6;
        }

        using var searched = index!;
        foreach (var query in queries.Take(300))
        {
            searched.Search(query, RetrievalScores.Depth);
        }

        var p50 = new List<double>();
        var p95 = new List<double>();
        var p99 = new List<double>();
        var perSecond = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var order = queries.ToArray();
            new Random(round).Shuffle(order);
            var times = new double[order.Length];
            for (var i = 0; i < order.Length; i++)
            {
                var start = Stopwatch.GetTimestamp();
                searched.Search(order[i], RetrievalScores.Depth);
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            Array.Sort(times);
            p50.Add(Percentile(times, 0.50));
            p95.Add(Percentile(times, 0.95));
            p99.Add(Percentile(times, 0.99));

            var parallel = Stopwatch.StartNew();
            Parallel.ForEach(order, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, q => searched.Search(q, RetrievalScores.Depth));
            perSecond.Add(order.Length / parallel.Elapsed.TotalSeconds);
        }

        return new SpeedResult(analyzer, searched.Name, chunks.Count, Median(buildRates), Median(parallelRates),
            Median(p50), Median(p95), Median(p99), Median(perSecond), heap);
    }

    // Not inlined, so the index it builds is garbage before the heap is measured.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static TimeSpan ParallelBuild(Func<IRetrievalEngine> create, IReadOnlyList<Passage> chunks)
    {
        using var engine = create();
        var clock = Stopwatch.StartNew();
        Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c => engine.Add(c.Id, c.Text));
        engine.Commit();
        return clock.Elapsed;
    }

    /// <summary>The corpus repeated (with fresh ids) until it has <paramref name="size"/> chunks.</summary>
    public static IReadOnlyList<Passage> Replicate(IReadOnlyList<Passage> passages, int size) =>
        [.. Enumerable.Range(0, size).Select(i => new Passage(i, passages[i % passages.Count].Text))];

    /// <summary>Nearest rank: a latency that was actually observed.</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
