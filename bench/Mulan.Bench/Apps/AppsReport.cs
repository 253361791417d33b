using System.Globalization;
using System.Text;
using Mulan.Bench.Hosting;
using Mulan.Bench.Ingestion;
using Mulan.Bench.Reporting;

namespace Mulan.Bench.Apps;

/// <summary>The Markdown report of the apps mode (bench/results/apps.md).</summary>
internal static class AppsReport
{
    private const double Goal = 300;

    public static string Render(ModeOptions options, AppsPlan plan, MachineInfo machine, ReleaseBuilds builds, IngestionCorpus corpus, AppsServer full,
        AppsServer normal, int questions, AppsResults r, AppsProfileResult? profile, LoadReading load, TimeSpan elapsed)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder()
            .AppendLine("## Apps: knowledge-qa over the gateway")
            .AppendLine()
            .AppendLine($"- command: `dotnet run -c Release --project bench/Mulan.Bench -- apps{(options.Raw.Count > 0 ? " " + string.Join(' ', options.Raw) : "")}`; mode {plan.Mode}; {elapsed.TotalSeconds:0} s")
            .Append(string.Concat(machine.Facts.Where(f => f.Name is not ("nginx" or "node" or "portkey" or "pinning")).Select(f => $"- {f.Name}: {f.Value}{Environment.NewLine}")))
            .AppendLine("- not pinned: Mulan, the fake vendor and this load generator share the machine's cores, as a two-core server would")
            .AppendLine(string.Create(inv, $"- knowledge base: {full.Documents:N0} JSON `{{title, text}}` documents (Markdown), keyword only (`embeddingModel: \"none\"`), **{full.Chunks:N0} chunks** (LedgerSync=Normal server: {normal.Chunks:N0}); {corpus.Describe()}, {plan.Replicas} copies with the copy number in every title; ingested in {full.IngestSeconds:0.0} s / {normal.IngestSeconds:0.0} s"))
            .AppendLine(string.Create(inv, $"- questions: {questions:N0} real questions of DRCD dev, XQuAD zh and XQuAD en, interleaved and shuffled with a fixed seed; each arm walks through them in order. The app found a cited answer for {Fmt.Pct(r.AppFoundShare)} of a 60-question check sample."))
            .AppendLine($"- app: `app:{AppsServer.Slug}`, kind knowledge-qa, model `{AppsServer.Route}` (→ fake vendor `fake-chat+cite`, which answers with the first sentence of source 1 and [1]), default retrieval (top 5)")
            .AppendLine()
            .AppendLine("Arms: **vendor** = the fake vendor called directly (the floor); **route** = Mulan's `/v1/chat/completions` with `model: \"chat-cite\"` and the bare question; "
                + "**search** = `POST /api/knowledge-bases/{id}/search` with the question (retrieval alone, over HTTP); **app** = `model: \"app:bench-qa\"`: retrieval, "
                + "the grounded prompt through the same route in process, the conversation and answer stored, two usage records. All on one virtual key. "
                + "Mulan (LedgerSync=Normal) is a second server with `Storage:LedgerSync=Normal`, same data.")
            .AppendLine();

        // ---- concurrency 1 ----
        var latency = new MarkdownTable("arm", "p50 ms", "p90 ms", "p99 ms", "p50 − vendor ms", "requests", "errors");
        foreach (var arm in r.LatencyArms)
        {
            latency.Row(arm, Fmt.Ms(r.LatencyAt(arm, 0.5)), Fmt.Ms(r.LatencyAt(arm, 0.9)), Fmt.Ms(r.LatencyAt(arm, 0.99)),
                arm == "vendor" ? "—" : Fmt.Delta(r.AddedAt(arm, "vendor", 0.5)), Fmt.Int(r.LatencyCount(arm)), Errors(r.LatencyErrors(arm), r.LatencyFirstError(arm)));
        }

        text.AppendLine("### Latency, concurrency 1, non-streaming").AppendLine()
            .AppendLine($"{plan.LatencyRounds} interleaved rounds × {plan.LatencyRequestsPerRound} sequential requests per arm, after {plan.Warmup.TotalSeconds:0} s of closed-loop warm-up per server; medians over rounds.")
            .AppendLine().Append(latency).AppendLine();
        foreach (var suffix in new[] { "", " (LedgerSync=Normal)" })
        {
            var (app, route, search) = ("app" + suffix, "route" + suffix, "search" + suffix);
            text.AppendLine(string.Create(inv, $"- {app} over {route}: **{Fmt.Delta(r.AddedAt(app, route, 0.5))} ms** at p50 ({Fmt.Ratio(r.RatioAt(app, route, 0.5))}), "
                + $"{Fmt.Delta(r.AddedAt(app, route, 0.9))} ms at p90 ({Fmt.Ratio(r.RatioAt(app, route, 0.9))}); the search alone is {Fmt.Delta(r.AddedAt(search, route, 0.5))} ms over the route at p50."));
        }

        text.AppendLine(string.Create(inv, $"- route over vendor: {Fmt.Delta(r.AddedAt("route", "vendor", 0.5))} ms at p50 (the gateway's own overhead on this unpinned machine)."));
        text.AppendLine();

        // ---- streaming ----
        var streaming = new MarkdownTable("arm", "first token p50 ms", "first token p90 ms", "total p50 ms", "total p90 ms", "errors");
        foreach (var arm in r.StreamArms)
        {
            streaming.Row(arm, Fmt.Ms(r.StreamAt(arm, true, 0.5)), Fmt.Ms(r.StreamAt(arm, true, 0.9)), Fmt.Ms(r.StreamAt(arm, false, 0.5)),
                Fmt.Ms(r.StreamAt(arm, false, 0.9)), r.StreamErrors(arm).ToString(inv));
        }

        text.AppendLine("### Streaming, concurrency 1").AppendLine()
            .AppendLine($"{plan.LatencyRounds} interleaved rounds × {plan.StreamsPerRound} sequential streams per arm. *First token* = the first chunk with non-empty content; the fake streams its answer 3 characters a delta, with no delay.")
            .AppendLine().Append(streaming).AppendLine();

        // ---- throughput ----
        var arms = r.Load.Select(p => p.Arm).Distinct().ToList();
        var levels = r.Load.Select(p => p.Concurrency).Distinct().Order().ToList();
        var throughput = new MarkdownTable("arm", "concurrency", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "Mulan CPU µs/req", "Mulan cores", "vendor cores", "other load");
        foreach (var c in levels)
        {
            foreach (var arm in arms)
            {
                var points = r.Points(arm, c).ToList();
                throughput.Row(arm, c.ToString(inv), Fmt.Int(r.LoadMedian(arm, c, p => p.Rps)), Fmt.Ms(r.LoadMedian(arm, c, p => p.P50)),
                    Fmt.Ms(r.LoadMedian(arm, c, p => p.P95)), Fmt.Ms(r.LoadMedian(arm, c, p => p.P99)),
                    Errors(points.Sum(p => p.Errors), points.Select(p => p.FirstError).FirstOrDefault(e => e is not null)),
                    Fmt.Us(r.LoadMedian(arm, c, p => p.MulanCpuUs)), Fmt.Cores(r.LoadMedian(arm, c, p => p.MulanCores)),
                    Fmt.Cores(r.LoadMedian(arm, c, p => p.VendorCores)), Fmt.Cores(r.LoadMedian(arm, c, p => p.OtherCores)));
            }
        }

        text.AppendLine("### Throughput, closed loop").AppendLine()
            .AppendLine($"C workers, each sending its next question when the last is answered; {plan.ThroughputRounds} round(s) of {plan.ThroughputWarmup.TotalSeconds:0.#} s unmeasured + "
                + $"{plan.ThroughputWindow.TotalSeconds:0.#} s measured per arm and level, arms interleaved; medians over rounds. *Mulan CPU µs/req* is the Mulan process's CPU time per answered request; "
                + "*Mulan cores* / *vendor cores* are the CPU those processes used over the window (2.00 = both cores); the rest of the machine went to this load generator "
                + "and, under *other load*, to processes outside the benchmark.")
            .AppendLine().Append(throughput).AppendLine();

        text.Append(Reading(r, levels));
        if (profile is not null)
        {
            text.AppendLine().Append(Profile(profile));
        }

        text.AppendLine().AppendLine("### Notes").AppendLine();
        foreach (var note in builds.Notes)
        {
            text.AppendLine($"- {note}");
        }

        text.AppendLine($"- other processes used {Fmt.Cores(load.OtherCores)} cores on average from the warm-up to the end (the machine is shared); load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}.");
        return text.ToString();
    }

    /// <summary>The verdict against the 300 req/s goal and what the CPU figures say about where the time goes.</summary>
    private static string Reading(AppsResults r, IReadOnlyList<int> levels)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder().AppendLine("### Reading").AppendLine();
        foreach (var (app, route) in new[] { ("app", "route"), ("app (LedgerSync=Normal)", "route (LedgerSync=Normal)") })
        {
            var best = levels.MaxBy(c => r.LoadMedian(app, c, p => p.Rps));
            var rps = r.LoadMedian(app, best, p => p.Rps);
            var cpu = r.LoadMedian(app, best, p => p.MulanCpuUs);
            text.AppendLine(string.Create(inv,
                $"- {app}: best **{Fmt.Int(rps)} req/s** (concurrency {best}; goal {Goal:0}: {GoalAt(r, app, levels)}); {route} at the same level {Fmt.Int(r.LoadMedian(route, best, p => p.Rps))} req/s "
                + $"(app ÷ route {Fmt.Ratio(r.RpsRatio(app, route, best))}). Mulan spends {Fmt.Us(cpu)} µs of CPU per app request against {Fmt.Us(r.LoadMedian(route, best, p => p.MulanCpuUs))} per route request"
                + $"{(r.Points("search", best).Any() && app == "app" ? $" and {Fmt.Us(r.LoadMedian("search", best, p => p.MulanCpuUs))} per search" : "")}; "
                + $"with both cores to itself that would be at most {Fmt.Int(2e6 / cpu)} app req/s."));
            // Whether more clients buy more req/s, and whether Mulan's CPU use follows: if neither does, requests wait on something.
            text.AppendLine(string.Create(inv,
                $"  By concurrency, app req/s {string.Join(", ", levels.Select(c => $"{c}: {Fmt.Int(r.LoadMedian(app, c, p => p.Rps))}"))}; "
                + $"Mulan cores {string.Join(", ", levels.Select(c => Fmt.Cores(r.LoadMedian(app, c, p => p.MulanCores))))} "
                + $"(the route: {string.Join(", ", levels.Select(c => Fmt.Cores(r.LoadMedian(route, c, p => p.MulanCores))))}); "
                + $"processes outside the benchmark {string.Join(", ", levels.Select(c => Fmt.Cores(r.LoadMedian(app, c, p => p.OtherCores))))}."));
        }

        if (levels.Any(c => r.Points("search", c).Any()))
        {
            var c = levels.Where(l => r.Points("search", l).Any()).Max();
            var rest = r.LoadMedian("app", c, p => p.MulanCpuUs) - r.LoadMedian("route", c, p => p.MulanCpuUs) - r.LoadMedian("search", c, p => p.MulanCpuUs);
            text.AppendLine(string.Create(inv,
                $"- CPU per app request at concurrency {c}, split by the arms: route {Fmt.Us(r.LoadMedian("route", c, p => p.MulanCpuUs))} µs + search {Fmt.Us(r.LoadMedian("search", c, p => p.MulanCpuUs))} µs "
                + $"+ the rest {Fmt.Us(rest)} µs (grounded prompt, the in-process model call with the larger prompt, the stored conversation and answer, two usage records)."));
        }

        return text.ToString();
    }

    /// <summary>"met at concurrency 1, 8; **not met** at 32, 64": a peak alone would hide that req/s falls as clients are added.</summary>
    private static string GoalAt(AppsResults r, string app, IReadOnlyList<int> levels)
    {
        var met = levels.Where(c => r.LoadMedian(app, c, p => p.Rps) >= Goal).ToList();
        var missed = levels.Except(met).ToList();
        return met.Count == 0 ? "**not met** at any concurrency"
            : missed.Count == 0 ? "met at every concurrency"
            : $"met at concurrency {string.Join(", ", met)}; **not met** at {string.Join(", ", missed)}";
    }

    private static string Profile(AppsProfileResult profile)
    {
        var text = new StringBuilder().AppendLine("### Where Mulan's CPU goes (perf)").AppendLine();
        if (profile.Unavailable is { } why)
        {
            return text.AppendLine($"Not profiled: {why}.").ToString();
        }

        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"`perf record -F 499 -g` on the Mulan process (LedgerSync=Full) for {profile.Seconds:0} s while the app ran at concurrency {profile.Concurrency} ({Fmt.Int(profile.Rps)} req/s under the profiler); self time, children not included."))
            .AppendLine();
        var libraries = new MarkdownTable("share", "library");
        foreach (var (share, name) in profile.Libraries.Take(10))
        {
            libraries.Row(share.ToString("0.0", CultureInfo.InvariantCulture) + "%", name);
        }

        var symbols = new MarkdownTable("share", "function");
        foreach (var (share, name) in profile.Symbols)
        {
            symbols.Row(share.ToString("0.0", CultureInfo.InvariantCulture) + "%", name.Length > 160 ? name[..160] + "…" : name);
        }

        var calls = new MarkdownTable("system call", "per app request", "per route request");
        foreach (var (name, perApp, perRoute) in profile.Syscalls)
        {
            calls.Row(name, perApp.ToString("0.00", CultureInfo.InvariantCulture), perRoute.ToString("0.00", CultureInfo.InvariantCulture));
        }

        return text.Append(libraries).AppendLine().Append(symbols).AppendLine()
            .AppendLine($"System calls of the Mulan process (`perf stat`), per answered request, app and then route at concurrency {profile.Concurrency} for {profile.Seconds:0} s each:")
            .AppendLine().Append(calls).ToString();
    }

    private static string Errors(int count, string? first) => count == 0 ? "0" : $"{count} ({first})";
}
