using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Load;
using Mulan.Bench.Stats;

namespace Mulan.Bench.Throughput;

/// <summary>
/// Closed-loop throughput (quality.md §1) at each concurrency, in rounds with arms taking turns: a short warm-up
/// window, then the measured window. Around the measured window the gateway's CPU time and the load core's
/// busy share are read: they say whether the gateway or the load generator (which shares its core with the
/// fake vendor) was the limit.
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
                    await ClosedLoop.RunAsync(client, arm, concurrency, plan.ThroughputWarmup, ct);
                    var cpu = arm.SampleCpu();
                    var load = LoadMeter.Start();
                    var window = await ClosedLoop.RunAsync(client, arm, concurrency, plan.ThroughputWindow, ct);
                    var machine = load.Read();
                    samples.Add(new ThroughputSample(
                        arm.Kind, concurrency, round,
                        RequestsPerSecond: window.LatenciesMs.Count / plan.ThroughputWindow.TotalSeconds,
                        Latency: Percentiles.Of(window.LatenciesMs),
                        window.Errors, window.FirstError,
                        Answered: window.LatenciesMs.Count + window.Tail,
                        window.ElapsedSeconds,
                        CpuSeconds: arm.CpuSecondsSince(cpu),
                        machine.LoadCoreBusy,
                        machine.OtherCores));
                }
            }
        }

        return new ThroughputResult([.. arms.Select(a => a.Kind)], plan.ThroughputConcurrency, samples);
    }
}
