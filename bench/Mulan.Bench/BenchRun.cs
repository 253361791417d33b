using System.Runtime.InteropServices;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Latency;
using Mulan.Bench.Load;
using Mulan.Bench.Reporting;
using Mulan.Bench.Streaming;
using Mulan.Bench.Throughput;

namespace Mulan.Bench;

/// <summary>One benchmark run: build, start the arms, check them, measure, report. Children are stopped on every exit path.</summary>
internal static class BenchRun
{
    public static async Task<int> RunAsync(BenchOptions options)
    {
        var plan = options.Quick ? BenchPlan.Quick : BenchPlan.Full;
        if (options.WarmupSeconds is { } warmup)
        {
            plan = plan with { WarmupDuration = TimeSpan.FromSeconds(warmup) };
        }
        var progress = new Progress();
        using var stop = new CancellationTokenSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            return await RunAsync(options, plan, progress, stop.Token);
        }
        catch (BenchException e)
        {
            await System.Console.Error.WriteLineAsync($"mulan-bench: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await System.Console.Error.WriteLineAsync("mulan-bench: interrupted; child processes stopped");
            return 130;
        }

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // unwind through the finally blocks that stop the children
            stop.Cancel();
        }
    }

    private static async Task<int> RunAsync(BenchOptions options, BenchPlan plan, Progress progress, CancellationToken ct)
    {
        var repo = RepoLayout.Find(options.RepoRoot)
            ?? throw new BenchException("cannot find the repository (Mulan.slnx); run from inside it or pass --repo DIR");
        var pinned = !options.NoPin && CorePinning.CanPin;
        if (pinned && CorePinning.AllowedCpus() != CorePinning.LoadCpu.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            progress.Say($"warning: this process runs on CPUs {CorePinning.AllowedCpus()}, not {CorePinning.LoadCpu}");
        }

        using var scratch = new ScratchDirectory();
        var builds = await ReleaseBuilds.PrepareAsync(repo, scratch, !options.NoBuild, progress, ct);
        // Declared before the arms, so it is removed after Mulan has stopped. A folder that does not exist yet:
        // Mulan starts from an empty ledger, as on a first install.
        using var dataParent = options.MulanDataParent is { } parent ? new ScratchDirectory(parent) : null;
        var mulanData = Path.Combine((dataParent ?? scratch).Path, "mulan-data");
        await using var arms = await ArmSet.StartAsync(options, builds, scratch, mulanData, repo, progress, ct);
        using var client = new LoadClient();
        await ArmCheck.VerifyAsync(arms, client, progress, ct);
        var machine = MachineInfo.Collect(repo, mulanData, pinned, TimeProvider.System);

        var active = arms.Active;
        var streaming = active.Where(a => a.CanStream).ToList();
        await Warmup.RunAsync(client, active, plan, progress, ct);
        var load = LoadMeter.Start();
        var results = new BenchResults(
            await LatencyRun.RunAsync(client, active, plan, progress, ct),
            await ThroughputRun.RunAsync(client, active, plan, progress, ct),
            await StreamProfileRun.RunAsync(client, streaming, Workload.StreamA, plan.StreamRounds, plan.StreamsPerRound, plan, progress, ct),
            await StreamProfileRun.RunAsync(client, streaming, Workload.StreamB, plan.StreamRounds, plan.LongStreamsPerRound, plan, progress, ct),
            await ConcurrentStreamsRun.RunAsync(client, streaming, plan, progress, ct));

        var notes = RunNotes.Collect(builds, plan, arms, load.Read());
        var report = BenchReport.Render(options, plan, machine, arms, results, notes);
        var path = Path.GetFullPath(options.OutputPath ?? repo.DefaultReport);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, report, ct);
        System.Console.WriteLine(report);
        progress.Say($"report written to {path}");
        return 0;
    }
}
