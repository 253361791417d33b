using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Load;

namespace Mulan.Bench.Streaming;

/// <summary>
/// Sequential streams of one profile (quality.md §2): rounds in which each arm runs the same number of streams
/// one after another, arms taking turns. CPU time of each arm is read around its streams for the per-token cost.
/// </summary>
internal static class StreamProfileRun
{
    public static async Task<StreamProfileResult> RunAsync(LoadClient client, IReadOnlyList<ArmTarget> arms, Workload workload,
        int rounds, int streamsPerRound, BenchPlan plan, Progress progress, CancellationToken ct)
    {
        var traces = arms.ToDictionary(a => a.Kind, _ => new List<List<StreamTrace>>());
        var cpu = arms.ToDictionary(a => a.Kind, _ => 0.0);
        for (var round = 0; round < rounds; round++)
        {
            progress.Say($"{Name(workload)} round {round + 1}/{rounds}: {streamsPerRound} sequential streams per arm");
            foreach (var arm in Rotation.Of(arms, round))
            {
                var batch = new List<StreamTrace>(streamsPerRound);
                var before = arm.SampleCpu();
                for (var i = 0; i < streamsPerRound; i++)
                {
                    using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    limit.CancelAfter(plan.StreamTimeout);
                    batch.Add(await StreamProbe.RunAsync(client, arm, workload, limit.Token));
                    ct.ThrowIfCancellationRequested();
                }

                cpu[arm.Kind] += arm.CpuSecondsSince(before);
                traces[arm.Kind].Add(batch);
            }
        }

        return new StreamProfileResult(workload, [.. arms.Select(a => a.Kind)], traces, cpu);
    }

    public static string Name(Workload workload) => workload == Workload.StreamA
        ? $"profile A ({Workloads.StreamADeltas} deltas, {Workloads.StreamAGapMs} ms apart)"
        : $"profile B ({Workloads.StreamBDeltas} deltas, no delay)";
}
