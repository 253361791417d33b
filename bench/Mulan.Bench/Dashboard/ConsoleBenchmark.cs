using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Data.Sqlite;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Stats;

namespace Mulan.Bench.Dashboard;

/// <summary>
/// The console's server side: time to first byte of its pages (beside <c>/healthz</c>, the floor of one request), and what
/// the overview's dashboard queries take over a ledger of a million usage records (beside the exact percentile scan the
/// hourly rollup replaces), plus what a ledger insert and folding it into the rollups cost per record. One <c>mulan serve</c> (Release,
/// durable ledger), driven from this process over loopback; rounds interleave the arms so that the shared machine's
/// noise falls on all of them alike.
/// </summary>
internal static class ConsoleBenchmark
{
    public const string Usage =
        """
        usage: dotnet run -c Release --project bench/Mulan.Bench -- console [options]
          --quick              short run: 200k records instead of 1M, fewer rounds
          --out FILE           report path (default bench/results/console.md)
          --no-build           do not build src/Mulan and tests/Mulan.FakeVendor (Release) first
          -h, --help           this text
        """;

    public static Task<int> RunAsync(string[] args) => ModeOptions.RunModeAsync(args, "console", Usage, false, RunAsync);

    /// <summary>Pages timed for first byte; a path the server does not have (404) is reported as such, not timed.</summary>
    private static readonly string[] Pages = ["/healthz", "/", "/keys", "/chat/demo", "/openapi/v1.json", "/reference/"];

    private static async Task<int> RunAsync(ModeOptions options, CancellationToken ct)
    {
        var records = options.Quick ? 200_000 : 1_000_000;
        var rounds = options.Quick ? 10 : 30;
        var repo = RepoLayout.Find(null) ?? throw new BenchException("cannot find the repository (Mulan.slnx); run from inside it");
        var progress = new Progress();
        using var scratch = new ScratchDirectory();
        var builds = await ReleaseBuilds.PrepareAsync(repo, scratch, !options.NoBuild, progress, ct);
        var (vendorTarget, vendorPort) = await FakeVendorArm.StartAsync(builds.FakeVendorDll, ct);
        await using var vendorProcess = vendorTarget.Process!;
        var data = Path.Combine(scratch.Path, "mulan-data");

        // 1. A first start creates the schema; with the server stopped, the ledger is filled through the same insert trigger.
        var (first, skipped) = await MulanArm.StartAsync(builds.MulanDll, scratch, data, new Dictionary<string, string>(), vendorPort, ct);
        if (first is null)
        {
            throw new BenchException(skipped ?? "mulan did not start");
        }
        await first.Process!.DisposeAsync();
        SqliteConnection.ClearAllPools();
        var database = Path.Combine(data, "mulan.db");
        progress.Say($"writing {records:N0} usage records");
        var now = DateTimeOffset.UtcNow;
        var fill = LedgerFill.Write(database, records, now);
        var cost = LedgerFill.WriteCost(Path.Combine(scratch.Path, "write-cost"), options.Quick ? 20_000 : 100_000, now);

        var (mulan, skippedAgain) = await MulanArm.StartAsync(builds.MulanDll, scratch, data, new Dictionary<string, string>(), vendorPort, ct);
        if (mulan is null)
        {
            throw new BenchException(skippedAgain ?? "mulan did not start again");
        }
        await using var mulanProcess = mulan.Process!;
        var origin = new Uri(mulan.ChatUrl.GetLeftPart(UriPartial.Authority));
        using var http = new HttpClient { BaseAddress = origin, Timeout = TimeSpan.FromSeconds(300) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MulanArm.AdminKey);
        // The first summary folds the whole filled ledger into the rollups (the server's background pass may have begun).
        var catchUp = Stopwatch.GetTimestamp();
        try
        {
            await GetAsync(http, "/api/usage/summary?by=model", ct);
        }
        catch (HttpRequestException e)
        {
            throw new BenchException($"the first summary failed ({e.Message}); mulan said: {mulanProcess.Tail()}");
        }
        var catchUpSeconds = Stopwatch.GetElapsedTime(catchUp).TotalSeconds;

        var report = new StringBuilder();
        report.AppendLine("# Console benchmark").AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {records:N0} usage records over 30 days, {rounds} rounds.").AppendLine();

        // 2. Time to first byte of the console's pages, interleaved, after a warm-up.
        progress.Say("timing pages");
        var ttfb = Pages.ToDictionary(p => p, _ => new List<double>());
        var status = new Dictionary<string, int>();
        for (var round = -3; round < rounds * 10; round++)
        {
            foreach (var page in Pages)
            {
                var (ms, code) = await FirstByteAsync(http, page, ct);
                status[page] = code;
                if (round >= 0)
                {
                    ttfb[page].Add(ms);
                }
            }
        }
        report.AppendLine("## Time to first byte").AppendLine();
        report.AppendLine("| page | status | p50 ms | p99 ms |").AppendLine("| --- | --- | --- | --- |");
        foreach (var page in Pages)
        {
            var d = Percentiles.Of(ttfb[page]);
            var row = status[page] == 404
                ? $"| `{page}` | 404 (not in this build) | | |"
                : string.Create(CultureInfo.InvariantCulture, $"| `{page}` | {status[page]} | {d.P50:0.00} | {d.P99:0.00} |");
            report.AppendLine(row);
        }
        report.AppendLine();

        // 3. The dashboard's queries over the full ledger, and the exact scan the rollup replaces.
        progress.Say("timing dashboard queries");
        string Window(int days) => $"from={Uri.EscapeDataString(now.AddDays(-days).ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(now.ToString("O", CultureInfo.InvariantCulture))}";
        var queries = new (string Name, Func<Task> Run)[]
        {
            ("summary by model, 30 days, all workspaces", () => GetAsync(http, $"/api/usage/summary?by=model&currency=CNY&{Window(30)}", ct)),
            ("summary by day, 30 days, Asia/Shanghai", () => GetAsync(http, $"/api/usage/summary?by=day&timeZone=Asia/Shanghai&{Window(30)}", ct)),
            ("summary by key, 30 days, one workspace", () => GetAsync(http, $"/api/usage/summary?by=key&workspace={LedgerFill.Workspaces[0]}&{Window(30)}", ct)),
            ("summary by hour, today", () => GetAsync(http, $"/api/usage/summary?by=hour&{Window(1)}", ct)),
            ("usage explorer, first page of 50", () => GetAsync(http, $"/api/usage?pageSize=50&{Window(30)}", ct)),
            ("exact p95 over 30 days (SQL scan, no rollup)", () => Task.Run(() => LedgerFill.ExactP95(database, now.AddDays(-30), now), ct)),
        };
        var times = queries.ToDictionary(q => q.Name, _ => new List<double>());
        for (var round = -2; round < rounds; round++)
        {
            foreach (var (name, run) in queries)
            {
                var started = Stopwatch.GetTimestamp();
                await run();
                if (round >= 0)
                {
                    times[name].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        }
        report.AppendLine(CultureInfo.InvariantCulture, $"## Dashboard queries over {records:N0} records").AppendLine();
        report.AppendLine("| query | p50 ms | p99 ms |").AppendLine("| --- | --- | --- |");
        foreach (var (name, _) in queries)
        {
            var d = Percentiles.Of(times[name]);
            report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {d.P50:0.0} | {d.P99:0.0} |");
        }
        report.AppendLine();
        report.AppendLine("## Ledger writes").AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Filling the ledger: {fill.LedgerRows:N0} records in {fill.Seconds:0.0} s ({fill.Rows / fill.Seconds:N0} records/s, batches of 1,000). The first summary after the restart (which waits for the start-up pass folding them into the hourly rollups): {catchUpSeconds:0.0} s.").AppendLine();
        report.AppendLine("| per record (batches of 64, no fsync) | µs |").AppendLine("| --- | --- |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| ledger insert (the request's path) | {cost.Insert:0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| folding it into the rollups (background) | {cost.RollUp:0.0} |");

        var text = report.ToString();
        var path = options.OutputPath ?? Path.Combine(repo.Root, "bench", "results", "console.md");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, text, ct);
        System.Console.WriteLine(text);
        return 0;
    }

    private static async Task<(double Ms, int Status)> FirstByteAsync(HttpClient http, string path, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        await response.Content.ReadAsByteArrayAsync(ct);
        return (elapsed, (int)response.StatusCode);
    }

    private static async Task GetAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new BenchException($"{path}: {(int)response.StatusCode} {body}");
        }
    }
}
