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

/// <summary>An engine and analyzer under test in the speed run.</summary>
internal sealed record SpeedArm(string Analyzer, Func<IRetrievalEngine> Create);

internal static class SpeedRun
{
    /// <summary>
    /// Measures every arm side by side, interleaved round by round so that they share the machine's noise:
    /// each round builds each arm's index on one thread and on <see cref="Environment.ProcessorCount"/> threads
    /// (MB/s of UTF-8 text until searchable), then each round asks every query once, in a shuffled order, on one
    /// thread (latency) and on all threads (throughput). Every figure is the median over the rounds; the heap
    /// figure is the managed heap an arm's last index adds, measured after a full collection.
    /// </summary>
    public static IReadOnlyList<SpeedResult> Measure(
        IReadOnlyList<SpeedArm> arms, IReadOnlyList<Passage> chunks, IReadOnlyList<string> queries, int rounds, Action<string> progress)
    {
        double megabytes = chunks.Sum(c => (long)Encoding.UTF8.GetByteCount(c.Text)) / 1e6;
        var measured = arms.Select(_ => new Samples()).ToArray();
        var indexes = new IRetrievalEngine?[arms.Count];
        for (var round = 0; round < rounds; round++)
        {
            for (var a = 0; a < arms.Count; a++)
            {
                progress($"speed: build round {round + 1}/{rounds}, {arms[a].Analyzer}");
                measured[a].ParallelBuild.Add(megabytes / ParallelBuild(arms[a].Create, chunks).TotalSeconds);
                indexes[a]?.Dispose();
                indexes[a] = null;
                var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
                var build = Stopwatch.StartNew();
                var index = arms[a].Create();
                foreach (var chunk in chunks)
                {
                    index.Add(chunk.Id, chunk.Text);
                }

                index.Commit();
                measured[a].Build.Add(megabytes / build.Elapsed.TotalSeconds);
                indexes[a] = index;
                measured[a].Heap = (GC.GetTotalMemory(forceFullCollection: true) - heapBefore) / 1e6;
            }
        }

        foreach (var index in indexes)
        {
            foreach (var query in queries.Take(300))
            {
                index!.Search(query, RetrievalScores.Depth);
            }
        }

        for (var round = 0; round < rounds; round++)
        {
            var order = queries.ToArray();
            new Random(round).Shuffle(order);
            for (var a = 0; a < arms.Count; a++)
            {
                progress($"speed: search round {round + 1}/{rounds}, {arms[a].Analyzer}");
                Search(indexes[a]!, order, measured[a]);
            }
        }

        var results = new List<SpeedResult>();
        for (var a = 0; a < arms.Count; a++)
        {
            var m = measured[a];
            results.Add(new SpeedResult(arms[a].Analyzer, indexes[a]!.Name, chunks.Count, Median(m.Build), Median(m.ParallelBuild),
                Median(m.P50), Median(m.P95), Median(m.P99), Median(m.PerSecond), m.Heap));
            indexes[a]!.Dispose();
        }

        return results;
    }

    /// <summary>The corpus repeated (with fresh ids) until it has <paramref name="size"/> chunks.</summary>
    public static IReadOnlyList<Passage> Replicate(IReadOnlyList<Passage> passages, int size) =>
        [.. Enumerable.Range(0, size).Select(i => new Passage(i, passages[i % passages.Count].Text))];

    private static void Search(IRetrievalEngine index, string[] order, Samples samples)
    {
        var times = new double[order.Length];
        for (var i = 0; i < order.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            index.Search(order[i], RetrievalScores.Depth);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        samples.P50.Add(Percentile(times, 0.50));
        samples.P95.Add(Percentile(times, 0.95));
        samples.P99.Add(Percentile(times, 0.99));

        var parallel = Stopwatch.StartNew();
        Parallel.ForEach(order, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, q => index.Search(q, RetrievalScores.Depth));
        samples.PerSecond.Add(order.Length / parallel.Elapsed.TotalSeconds);
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

    /// <summary>Nearest rank: a latency that was actually observed.</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private sealed class Samples
    {
        public List<double> Build { get; } = [];
        public List<double> ParallelBuild { get; } = [];
        public List<double> P50 { get; } = [];
        public List<double> P95 { get; } = [];
        public List<double> P99 { get; } = [];
        public List<double> PerSecond { get; } = [];
        public double Heap { get; set; }
    }
}
