using System.Diagnostics;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Ingestion;
using Mulan.Bench.Reporting;

namespace Mulan.Bench.Assistant;

/// <summary>
/// What the assistant's tool-calling loop costs beyond its model and tool calls: runs with K knowledge_search calls in
/// one model turn, one at a time, split by the API's own step durations into model, tool and loop time per step, beside
/// direct calls of the same route and of the knowledge-base search; then C runs started at once on two cores, with
/// Mulan's CPU per run. One server with the durable ledger (<c>Storage:LedgerSync=Full</c>, the default).
/// </summary>
/// <remarks>
/// Nothing is pinned, as in the apps mode: Mulan, the fake vendor and this client share the cores, and Mulan's CPU per
/// run says what it alone needs.
/// </remarks>
internal static class AssistantBenchmark
{
    public static Task<int> RunAsync(string[] args) => ModeOptions.RunModeAsync(args, "assistant", AssistantBenchOptions.Usage, false, RunAsync);

    private static async Task<int> RunAsync(ModeOptions options, CancellationToken ct)
    {
        var plan = options.Quick ? AssistantPlan.Quick : AssistantPlan.Full;
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
        var corpus = IngestionCorpus.Load(datasets);
        var queries = AssistantQueries.Load(datasets, 3000);

        progress.Say("starting the fake vendor");
        var (vendorTarget, vendorPort) = await FakeVendorArm.StartAsync(builds.FakeVendorDll, ct);
        await using var vendorProcess = vendorTarget.Process!;
        var server = await AssistantServer.StartAsync(builds.MulanDll, scratch, dataFolder, vendorPort, corpus.Documents(plan.Replicas), progress, ct);
        await using var serverProcess = server.Process;
        using var client = new RunClient(server);
        var runs = new AssistantRuns(client, server, queries, plan, progress);

        var load = LoadMeter.Start();
        await runs.WarmUpAsync(ct);
        var (loop, tool) = await runs.SequentialAsync(ct);
        var concurrent = await runs.ConcurrentAsync(ct);
        var results = new AssistantResults(loop, tool, concurrent);

        var report = AssistantReport.Render(options, plan, machine, builds, corpus, server, queries.Count, results, load.Read(), Stopwatch.GetElapsedTime(started));
        var path = Path.GetFullPath(options.OutputPath ?? Path.Combine(repo.Root, "bench", "results", "assistant.md"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, report, ct);
        System.Console.WriteLine(report);
        progress.Say($"report written to {path}");
        return 0;
    }
}
