using Mulan.Bench.Hosting;
using Mulan.Bench.Load;

namespace Mulan.Bench.Apps;

/// <summary>The measured parts of the apps run, each in rounds with the arms taking turns (a different first arm each round).</summary>
internal static class AppsRuns
{
    public static async Task<IReadOnlyList<IReadOnlyDictionary<string, Samples>>> LatencyAsync(LoadClient client, IReadOnlyList<AppsArm> arms, AppsPlan plan,
        Progress progress, CancellationToken ct)
    {
        var rounds = new List<IReadOnlyDictionary<string, Samples>>();
        for (var round = 0; round < plan.LatencyRounds; round++)
        {
            progress.Say($"latency round {round + 1}/{plan.LatencyRounds}: {plan.LatencyRequestsPerRound} sequential requests per arm");
            var figures = new Dictionary<string, Samples>();
            foreach (var arm in Rotation.Of(arms, round))
            {
                figures[arm.Name] = await AppsLoad.SequentialAsync(client, arm, plan.LatencyRequestsPerRound, ct);
            }

            rounds.Add(figures);
        }

        return rounds;
    }

    public static async Task<IReadOnlyList<IReadOnlyDictionary<string, (Samples FirstToken, Samples Total)>>> StreamsAsync(LoadClient client,
        IReadOnlyList<AppsArm> arms, AppsPlan plan, Progress progress, CancellationToken ct)
    {
        var rounds = new List<IReadOnlyDictionary<string, (Samples, Samples)>>();
        for (var round = 0; round < plan.LatencyRounds; round++)
        {
            progress.Say($"streaming round {round + 1}/{plan.LatencyRounds}: {plan.StreamsPerRound} sequential streams per arm");
            var figures = new Dictionary<string, (Samples, Samples)>();
            foreach (var arm in Rotation.Of(arms, round))
            {
                figures[arm.Name] = await AppsLoad.StreamsAsync(client, arm, plan.StreamsPerRound, ct);
            }

            rounds.Add(figures);
        }

        return rounds;
    }

    /// <summary>
    /// Closed loop per concurrency level: a short unmeasured window, then the measured one, around which Mulan's and the
    /// fake vendor's CPU time and the machine's other load are read.
    /// </summary>
    public static async Task<IReadOnlyList<LoadPoint>> ThroughputAsync(LoadClient client, IReadOnlyList<AppsArm> arms, AppsArm vendor, AppsPlan plan,
        Progress progress, CancellationToken ct)
    {
        var points = new List<LoadPoint>();
        for (var round = 0; round < plan.ThroughputRounds; round++)
        {
            for (var level = 0; level < plan.Concurrency.Count; level++)
            {
                var c = plan.Concurrency[level];
                progress.Say($"throughput round {round + 1}/{plan.ThroughputRounds}, concurrency {c}");
                foreach (var arm in Rotation.Of(arms, round + level))
                {
                    await AppsLoad.ClosedLoopAsync(client, arm, c, plan.ThroughputWarmup, ct);
                    var mulan = arm.SampleCpu();
                    var fake = vendor.SampleCpu();
                    var machine = LoadMeter.Start();
                    var window = await AppsLoad.ClosedLoopAsync(client, arm, c, plan.ThroughputWindow, ct);
                    var other = machine.Read().OtherCores;
                    var seconds = plan.ThroughputWindow.TotalSeconds;
                    var mulanCpu = arm.CpuSecondsSince(mulan);
                    points.Add(new LoadPoint(arm.Name, arm.Ledger, c, round, window.Ms.Count / seconds, window.At(0.50), window.At(0.95), window.At(0.99),
                        window.Errors, window.FirstError, window.Ms.Count > 0 ? mulanCpu * 1e6 / window.Ms.Count : double.NaN, mulanCpu / seconds,
                        vendor.CpuSecondsSince(fake) / seconds, other));
                }
            }
        }

        return points;
    }
}
