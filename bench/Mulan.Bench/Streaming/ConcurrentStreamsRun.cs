using System.Diagnostics;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Load;

namespace Mulan.Bench.Streaming;

/// <summary>
/// How many concurrent profile-A streams an arm sustains (quality.md §2): at each level all streams start at
/// once; every one must complete with all its deltas and no gap above the stall bound. Levels are repeated in
/// rounds, arms taking turns. Direct runs each level too, as the reference for what the load generator and the
/// vendor's shared core can carry.
/// </summary>
internal static class ConcurrentStreamsRun
{
    public static async Task<ConcurrentStreamsResult> RunAsync(LoadClient client, IReadOnlyList<ArmTarget> arms, BenchPlan plan, Progress progress, CancellationToken ct)
    {
        var samples = new List<ConcurrentStreamsSample>();
        for (var round = 0; round < plan.StreamLevelRounds; round++)
        {
            for (var level = 0; level < plan.StreamLevels.Count; level++)
            {
                var streams = plan.StreamLevels[level];
                progress.Say($"concurrent streams round {round + 1}/{plan.StreamLevelRounds}: {streams} at once per arm");
                foreach (var arm in Rotation.Of(arms, round + level))
                {
                    samples.Add(await BurstAsync(client, arm, streams, plan, ct));

                    // Let closed connections and the ledger settle before the next arm starts its burst.
                    await Task.Delay(250, ct);
                }
            }
        }

        return new ConcurrentStreamsResult([.. arms.Select(a => a.Kind)], plan.StreamLevels, samples, plan.StallGap.TotalMilliseconds);
    }

    private static async Task<ConcurrentStreamsSample> BurstAsync(LoadClient client, ArmTarget arm, int streams, BenchPlan plan, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(plan.StreamTimeout);
        var cpu = arm.SampleCpu();
        var load = LoadMeter.Start();
        var start = Stopwatch.GetTimestamp();
        var traces = await Task.WhenAll(Enumerable.Range(0, streams).Select(async _ =>
        {
            await Task.Yield(); // every stream starts before the first one reads
            return await StreamProbe.RunAsync(client, arm, Workload.StreamA, limit.Token);
        }));
        ct.ThrowIfCancellationRequested();
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new ConcurrentStreamsSample(arm.Kind, streams, traces, elapsed, arm.CpuSecondsSince(cpu), load.Read().OtherCores);
    }
}
