using System.Diagnostics;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Ingestion;
using Mulan.Bench.Load;
using Mulan.Bench.Reporting;

namespace Mulan.Bench.Apps;

/// <summary>
/// What the app layer costs: a question straight to the fake vendor (the floor), to the Mulan route an app uses, to
/// the knowledge base's search, and to the published knowledge-qa app (retrieval over a 10,000-chunk keyword-only
/// knowledge base + the route + the stored conversation and usage records), at concurrency 1, streamed, and in a
/// closed loop at several concurrency levels; once with the durable ledger (<c>Storage:LedgerSync=Full</c>, the
/// default) and once with <c>Normal</c>. Arms take turns within each round; figures are medians over rounds.
/// </summary>
/// <remarks>
/// Nothing is pinned: the question is what two cores serve, so Mulan, the fake vendor and this load generator share
/// them, and the report gives Mulan's own CPU per request beside the req/s to say what Mulan alone would need.
/// </remarks>
internal static class AppsBenchmark
{
    public static Task<int> RunAsync(string[] args) => ModeOptions.RunModeAsync(args, "apps", AppsOptions.Usage, true, RunAsync);

    private static async Task<int> RunAsync(ModeOptions options, CancellationToken ct)
    {
        var plan = options.Quick ? AppsPlan.Quick : AppsPlan.Full;
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
        var documents = corpus.Documents(plan.Replicas);
        var questions = AppsQuestions.Load(datasets, plan.Questions);

        progress.Say("starting the fake vendor");
        var (vendorTarget, vendorPort) = await FakeVendorArm.StartAsync(builds.FakeVendorDll, ct);
        await using var vendorProcess = vendorTarget.Process!;
        var profiled = options.Profile ? AppsProfile.Environment : new Dictionary<string, string>();
        var full = await AppsServer.StartAsync(builds.MulanDll, scratch, dataFolder, vendorPort, ArmKind.Mulan, profiled, documents, progress, ct);
        await using var fullProcess = full.Process;
        var normal = await AppsServer.StartAsync(builds.MulanDll, scratch, dataFolder + "-normal-sync", vendorPort, ArmKind.MulanNormalSync,
            new Dictionary<string, string>(), documents, progress, ct);
        await using var normalProcess = normal.Process;

        using var client = new LoadClient();
        var vendor = new AppsArm("vendor", vendorTarget.ChatUrl, FakeVendorArm.ApiKey, AppsServer.Chat("fake-chat+cite", questions, false),
            AppsServer.Chat("fake-chat+cite", questions, true), vendorProcess, "—");
        var fullArms = full.Arms(questions);
        var normalArms = normal.Arms(questions);
        var latencyArms = new[] { vendor }.Concat(fullArms).Concat(normalArms).ToList();
        var found = await AppsCheck.VerifyAsync(client, latencyArms, fullArms[2], progress, ct);

        var load = LoadMeter.Start();
        foreach (var (route, app) in new[] { (fullArms[0], fullArms[2]), (normalArms[0], normalArms[2]) })
        {
            progress.Say($"warm-up {app.Name}: {plan.Warmup.TotalSeconds:0} s at concurrency 16, app and route alternating");
            for (var elapsed = TimeSpan.Zero; elapsed < plan.Warmup; elapsed += TimeSpan.FromSeconds(2))
            {
                await AppsLoad.ClosedLoopAsync(client, app, 16, TimeSpan.FromSeconds(1), ct);
                await AppsLoad.ClosedLoopAsync(client, route, 16, TimeSpan.FromSeconds(1), ct);
            }
        }

        var latency = await AppsRuns.LatencyAsync(client, latencyArms, plan, progress, ct);
        var streamArms = latencyArms.Where(a => a.CanStream).ToList();
        var streams = await AppsRuns.StreamsAsync(client, streamArms, plan, progress, ct);
        var loadArms = new[] { fullArms[0], fullArms[1], fullArms[2], normalArms[0], normalArms[2] };
        var points = await AppsRuns.ThroughputAsync(client, loadArms, vendor, plan, progress, ct);
        var profile = options.Profile ? await AppsProfile.RunAsync(client, fullArms[2], fullArms[0], plan, scratch, progress, ct) : null;
        var results = new AppsResults([.. latencyArms.Select(a => a.Name)], latency, [.. streamArms.Select(a => a.Name)], streams, points, found);

        var report = AppsReport.Render(options, plan, machine, builds, corpus, full, normal, questions.Count, results, profile, load.Read(),
            Stopwatch.GetElapsedTime(started));
        var path = Path.GetFullPath(options.OutputPath ?? Path.Combine(repo.Root, "bench", "results", "apps.md"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, report, ct);
        System.Console.WriteLine(report);
        progress.Say($"report written to {path}");
        return 0;
    }
}
