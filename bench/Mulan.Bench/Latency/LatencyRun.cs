using System.Diagnostics;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Load;
using Mulan.Bench.Stats;

namespace Mulan.Bench.Latency;

/// <summary>
/// Non-streaming latency at concurrency 1 (quality.md §1), after <see cref="Warmup"/>: rounds in which every arm sends
/// the same number of sequential requests, arms taking turns. Each round yields a p50/p99 per arm; the
/// report takes medians over rounds of those and of each arm's difference to direct in the same round.
/// </summary>
internal static class LatencyRun
{
    public static async Task<LatencyResult> RunAsync(LoadClient client, IReadOnlyList<ArmTarget> arms, BenchPlan plan, Progress progress, CancellationToken ct)
    {
        var rounds = new List<IReadOnlyDictionary<ArmKind, LatencyRound>>();
        for (var round = 0; round < plan.LatencyRounds; round++)
        {
            progress.Say($"latency round {round + 1}/{plan.LatencyRounds}: {plan.LatencyRequestsPerRound} requests per arm at concurrency 1");
            var figures = new Dictionary<ArmKind, LatencyRound>();
            foreach (var arm in Rotation.Of(arms, round))
            {
                figures[arm.Kind] = await SequentialAsync(client, arm, plan.LatencyRequestsPerRound, ct);
            }

            rounds.Add(figures);
        }

        return new LatencyResult([.. arms.Select(a => a.Kind)], rounds);
    }

    private static async Task<LatencyRound> SequentialAsync(LoadClient client, ArmTarget arm, int count, CancellationToken ct)
    {
        var samples = new List<double>(count);
        var errors = 0;
        string? firstError = null;
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var error = await client.ChatAsync(arm, ct);
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (error is null)
            {
                samples.Add(elapsed);
            }
            else
            {
                errors++;
                firstError ??= error;
            }
        }

        return new LatencyRound(Percentiles.Of(samples), errors, firstError);
    }
}
