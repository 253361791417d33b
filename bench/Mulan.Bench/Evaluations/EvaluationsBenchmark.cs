using System.Diagnostics;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Load;
using Mulan.Bench.Reporting;

namespace Mulan.Bench.Evaluations;

/// <summary>
/// What the evaluation runner adds over the calls it makes (items/s of runs at concurrency 1, 4 and 16 beside the same
/// questions sent straight to the route at the same concurrency), and how a pilot's ledger and report grow with its
/// usage records (1k, 10k, 100k real records made through the gateway on the pilot's keys). One server with the durable
/// ledger (<c>Storage:LedgerSync=Full</c>, the default).
/// </summary>
/// <remarks>Nothing is pinned, as in the apps and assistant modes.</remarks>
internal static class EvaluationsBenchmark
{
    public static Task<int> RunAsync(string[] args) => ModeOptions.RunModeAsync(args, "evaluations", EvaluationsBenchOptions.Usage, false, RunAsync);

    private static async Task<int> RunAsync(ModeOptions options, CancellationToken ct)
    {
        var plan = options.Quick ? EvaluationsPlan.Quick : EvaluationsPlan.Full;
        var repo = RepoLayout.Find(null) ?? throw new BenchException("cannot find the repository (Mulan.slnx); run from inside it");
        var datasets = RepoLayout.Datasets(options.Datasets, null, out var lookedIn)
            ?? throw new BenchException($"no datasets in {lookedIn} (DRCD dev and XQuAD; see ../shared/datasets/README.md)");
        var progress = new Progress();
        var started = Stopwatch.GetTimestamp();
        using var scratch = new ScratchDirectory();
        var builds = await ReleaseBuilds.PrepareAsync(repo, scratch, !options.NoBuild, progress, ct);
        using var dataParent = options.MulanData is { } parent ? new ScratchDirectory(parent) : null;
        var dataFolder = Path.Combine((dataParent ?? scratch).Path, "mulan-data");
        var machine = MachineInfo.Collect(repo, dataFolder, pinned: false, TimeProvider.System);
        var questions = Apps.AppsQuestions.LoadWithAnswers(datasets, plan.Items);

        progress.Say("starting the fake vendor");
        var (vendorTarget, vendorPort) = await FakeVendorArm.StartAsync(builds.FakeVendorDll, ct);
        await using var vendorProcess = vendorTarget.Process!;
        using var server = await EvaluationsServer.StartAsync(builds.MulanDll, scratch, dataFolder, vendorPort, ct);
        await using var serverProcess = server.Process;
        using var load = new LoadClient();

        var meter = LoadMeter.Start();
        var evaluations = new EvaluationRounds(server, load, questions, plan, progress);
        await evaluations.CreateSetAsync(ct);
        var passes = await evaluations.RunAsync(ct);
        var figures = plan.Concurrency.Select(c => ConcurrencyFigures.Of(c, passes, questions.Count)).ToList();

        var pilot = new PilotReportTiming(server, load, [.. questions.Select(q => q.Question)], plan, progress);
        await pilot.SetUpAsync(evaluations.SetId, DateOnly.FromDateTime(DateTime.UtcNow), ct);
        var seeds = new List<SeedStep>();
        var timings = new List<EndpointTiming>();
        foreach (var records in plan.Records)
        {
            seeds.Add(await pilot.SeedToAsync(records, ct));
            timings.AddRange(await pilot.TimeAsync(records, ct));
            progress.Say($"pilot: report timed at {records:N0} records");
        }

        var results = new EvaluationsResults(figures, evaluations.RecordsMade, seeds, timings);
        var report = EvaluationsReport.Render(options, plan, machine, builds, evaluations, pilot, results, meter.Read(), Stopwatch.GetElapsedTime(started));
        var path = Path.GetFullPath(options.OutputPath ?? Path.Combine(repo.Root, "bench", "results", "evaluations.md"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, report, ct);
        System.Console.WriteLine(report);
        progress.Say($"report written to {path}");
        return 0;
    }
}
