using System.Diagnostics;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Load;
using Mulan.Bench.Stats;

namespace Mulan.Bench.Throughput;

/// <summary>
/// Closed-loop throughput (quality.md §1): C workers each send the next request as soon as the previous one is
/// answered, for a fixed window after a warm-up window. Around the window the gateway's CPU time is read,
/// which gives CPU per request and how busy its core was — the figure that says whether the gateway or the
/// load generator (which shares its core with the fake vendor) was the limit.
/// </summary>
internal static class ThroughputRun
{
    public static async Task<ThroughputResult> RunAsync(LoadClient client, IReadOnlyList<ArmTarget> arms, BenchPlan plan, Progress progress, CancellationToken ct)
    {
        var samples = new List<ThroughputSample>();
        for (var round = 0; round < plan.ThroughputRounds; round++)
        {
            for (var level = 0; level < plan.ThroughputConcurrency.Count; level++)
            {
                var concurrency = plan.ThroughputConcurrency[level];
                progress.Say($"throughput round {round + 1}/{plan.ThroughputRounds}, concurrency {concurrency}");
                foreach (var arm in Rotation.Of(arms, round + level))
                {
                    await WindowAsync(client, arm, concurrency, plan.ThroughputWarmup, ct);
                    var cpu = arm.CpuSeconds();
                    var window = await WindowAsync(client, arm, concurrency, plan.ThroughputWindow, ct);
                    samples.Add(window with { Round = round, CpuSeconds = arm.CpuSeconds() - cpu });
                }
            }
        }

        return new ThroughputResult([.. arms.Select(a => a.Kind)], plan.ThroughputConcurrency, samples);
    }

    private static async Task<ThroughputSample> WindowAsync(LoadClient client, ArmTarget arm, int concurrency, TimeSpan window, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(window.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(_ => WorkerAsync(client, arm, end, ct)).ToArray();
        var results = await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var inWindow = results.Sum(r => r.Latencies.Count);
        return new ThroughputSample(
            arm.Kind, concurrency, 0,
            RequestsPerSecond: inWindow / window.TotalSeconds,
            Latency: Percentiles.Of(results.SelectMany(r => r.Latencies)),
            Errors: results.Sum(r => r.Errors),
            FirstError: results.Select(r => r.FirstError).FirstOrDefault(e => e is not null),
            // CPU is read around the whole run, in-flight tail included, so it is divided by everything answered.
            Answered: inWindow + results.Sum(r => r.Tail),
            ElapsedSeconds: elapsed,
            CpuSeconds: 0);
    }

    private static async Task<WorkerResult> WorkerAsync(LoadClient client, ArmTarget arm, long end, CancellationToken ct)
    {
        await Task.Yield(); // start all workers before the first one sends
        var result = new WorkerResult();
        while (Stopwatch.GetTimestamp() < end)
        {
            var start = Stopwatch.GetTimestamp();
            var error = await client.ChatAsync(arm, ct);
            var done = Stopwatch.GetTimestamp();
            if (error is not null)
            {
                result.Errors++;
                result.FirstError ??= error;
            }
            else if (done <= end)
            {
                result.Latencies.Add((done - start) * 1000.0 / Stopwatch.Frequency);
            }
            else
            {
                result.Tail++;
            }
        }

        return result;
    }

    private sealed class WorkerResult
    {
        public List<double> Latencies { get; } = new(4096);

        public int Errors { get; set; }

        public int Tail { get; set; }

        public string? FirstError { get; set; }
    }
}
