using System.Diagnostics;
using Mulan.Bench.Arms;

namespace Mulan.Bench.Load;

/// <summary>
/// C workers, each sending its next non-streaming request as soon as the last is answered, until a deadline.
/// Requests answered after the deadline are counted apart (<see cref="ClosedLoopResult.Tail"/>).
/// </summary>
internal static class ClosedLoop
{
    public static async Task<ClosedLoopResult> RunAsync(LoadClient client, ArmTarget arm, int concurrency, TimeSpan duration, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => WorkerAsync(client, arm, end, ct)));
        return new ClosedLoopResult(
            [.. workers.SelectMany(w => w.Latencies)],
            workers.Sum(w => w.Errors),
            workers.Select(w => w.FirstError).FirstOrDefault(e => e is not null),
            workers.Sum(w => w.Tail),
            Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    private static async Task<Worker> WorkerAsync(LoadClient client, ArmTarget arm, long end, CancellationToken ct)
    {
        await Task.Yield(); // all workers start before the first one sends
        var worker = new Worker();
        while (Stopwatch.GetTimestamp() < end)
        {
            var start = Stopwatch.GetTimestamp();
            var error = await client.ChatAsync(arm, ct);
            var done = Stopwatch.GetTimestamp();
            if (error is not null)
            {
                worker.Errors++;
                worker.FirstError ??= error;
            }
            else if (done <= end)
            {
                worker.Latencies.Add((done - start) * 1000.0 / Stopwatch.Frequency);
            }
            else
            {
                worker.Tail++;
            }
        }

        return worker;
    }

    private sealed class Worker
    {
        public List<double> Latencies { get; } = new(4096);

        public int Errors { get; set; }

        public int Tail { get; set; }

        public string? FirstError { get; set; }
    }
}

/// <param name="LatenciesMs">Latency of each request answered (200) before the deadline.</param>
/// <param name="Tail">Requests answered after the deadline: not counted in req/s, but part of the CPU used.</param>
/// <param name="ElapsedSeconds">Start to the last answer, tail included.</param>
internal sealed record ClosedLoopResult(IReadOnlyList<double> LatenciesMs, int Errors, string? FirstError, int Tail, double ElapsedSeconds);
