using System.Globalization;
using System.Text;
using Mulan.Bench.Hosting;
using Mulan.Bench.Reporting;
using Mulan.Bench.Stats;

namespace Mulan.Bench.Evaluations;

/// <summary>The Markdown report of the evaluations mode (bench/results/evaluations.md).</summary>
internal static class EvaluationsReport
{
    public static string Render(ModeOptions options, EvaluationsPlan plan, MachineInfo machine, ReleaseBuilds builds, EvaluationRounds evaluations,
        PilotReportTiming pilot, EvaluationsResults r, LoadReading load, TimeSpan elapsed)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder()
            .AppendLine("## Evaluations and pilots")
            .AppendLine()
            .AppendLine($"- command: `dotnet run -c Release --project bench/Mulan.Bench -- evaluations{(options.Raw.Count > 0 ? " " + string.Join(' ', options.Raw) : "")}`; mode {plan.Mode}; {elapsed.TotalSeconds:0} s")
            .Append(string.Concat(machine.Facts.Where(f => f.Name is not ("nginx" or "node" or "portkey" or "pinning")).Select(f => $"- {f.Name}: {f.Value}{Environment.NewLine}")))
            .AppendLine("- not pinned: Mulan, the fake vendor and this client share the machine's cores, as a two-core server would")
            .AppendLine($"- server: one `mulan serve` (Release), `Storage:LedgerSync=Full` (the default); routes `{EvaluationsServer.EvalRoute}` → fake `fake-chat` (12 reply tokens), `{EvaluationsServer.PilotRoutes[0]}` → `fake-chat`, `{EvaluationsServer.PilotRoutes[1]}` → `fake-chat+chunks=64` (other prices)")
            .AppendLine();

        var eval = new MarkdownTable("C", "rounds", "evaluation items/s", "direct req/s", "evaluation ÷ direct", "run wall p50 ms", "POST → seen ended p50 ms",
            "Mulan CPU ms/item", "Mulan CPU ms/direct request");
        foreach (var c in r.Evaluations)
        {
            eval.Row(c.Concurrency.ToString(inv), c.Rounds.ToString(inv), $"**{Fmt.Int(c.ItemsPerSecond)}**", Fmt.Int(c.DirectPerSecond), $"**{Fmt.Ratio(c.Ratio)}**",
                Fmt.Ms(c.RunWallMs), Fmt.Ms(c.ClientMs), Fmt.Ms(c.CpuMsPerItem), Fmt.Ms(c.CpuMsPerRequest));
        }

        text.AppendLine("### Evaluation runs against direct calls").AppendLine()
            .AppendLine($"A set of {plan.Items} real dataset questions (DRCD dev, XQuAD zh, XQuAD en, interleaved, fixed shuffle), each with its first gold answer as the expected fact, e.g. `{evaluations.Sample()}`. "
                + $"Per round and concurrency C (order rotated, arms alternated; {plan.WarmupRounds} unmeasured round(s) first): one `POST /api/evaluations/runs {{set, target: {{model: \"{EvaluationsServer.EvalRoute}\"}}, concurrency: C}}`, "
                + $"polled with `GET /api/evaluations/runs/{{id}}` every {EvaluationRounds.PollMs} ms to its end, and the same {plan.Items} questions sent by this client to `/v1/chat/completions` "
                + "on the same route with a virtual key by C workers. *items/s* = items ÷ the run's createdAt → endedAt; *direct req/s* = requests ÷ first request → last response; "
                + "*evaluation ÷ direct* = the median over rounds of the two in the same round. *Mulan CPU* is the server process's over the run (polls included) or the pass. "
                + $"Every run was checked: status succeeded, {plan.Items} items done, no item error, and {plan.Items} usage records in `GET /api/usage?evaluationRun=` "
                + $"({r.EvaluationRecords:N0} records in all); every direct request answered 200.")
            .AppendLine().Append(eval).AppendLine();

        var seeds = string.Join("; ", r.Seeds.Select(s => string.Create(inv, $"to {s.Records:N0}: {s.Sent:N0} in {s.Seconds:0.0} s ({s.Sent / s.Seconds:N0}/s)")));
        var report = new MarkdownTable(["endpoint", .. plan.Records.Select(n => $"{n:N0} records p50 / p95 ms"), $"{plan.Records[^1]:N0} ÷ {plan.Records[0]:N0} p50",
            $"Mulan CPU ms/call at {plan.Records[^1]:N0}", $"bytes at {plan.Records[^1]:N0}"]);
        foreach (var endpoint in PilotReportTiming.Endpoints)
        {
            var rows = plan.Records.Select(n => r.Reports.Single(t => t.Endpoint == endpoint && t.Records == n)).ToList();
            var cells = rows.Select(t => $"{Fmt.Ms(P(t.Ms, 0.5))} / {Fmt.Ms(P(t.Ms, 0.95))}");
            report.Row([Label(endpoint), .. cells, Fmt.Ratio(P(rows[^1].Ms, 0.5) / P(rows[0].Ms, 0.5)), Fmt.Ms(rows[^1].MulanCpuMs), Fmt.Int(rows[^1].Bytes)]);
        }

        text.AppendLine("### Pilot ledger and report by ledger size").AppendLine()
            .AppendLine($"A pilot in the default workspace (a 90-day period, a month in; contract 120,000 USD) with 4 virtual keys of its own, {pilot.ScopeItems} scope items whose criteria "
                + $"(`factRecall ≥ 0.5`, `latencyP95Ms ≤ 4000`) name the evaluation set above, so the report judges each from the set's latest succeeded run, and {pilot.EffortEntries} effort entries. "
                + $"Its usage records are real ledger records: chat completions on its keys (keys, the two pilot routes and {plan.Items} questions rotating) sent by {plan.SeedConcurrency} workers, "
                + $"every one answered 200 ({seeds}); before each step is timed, the pilot's ledger must count exactly the records sent, and the JSON report must count them too and judge every criterion from a run. "
                + $"All records fall on today (the gateway stamps them): the ledger's per-day series has one day. The evaluation runs' {r.EvaluationRecords:N0} records are in the same workspace on the "
                + "evaluation service key, outside the pilot. "
                + $"At each size, {plan.ReportRounds} rounds, each calling `GET /api/pilots/{{id}}/ledger` and `/report?format=json|md|html` once (order rotated), one at a time, after 2 unmeasured rounds; "
                + "time = request → last byte at this client.")
            .AppendLine().Append(report).AppendLine();

        text.AppendLine("### Notes").AppendLine();
        foreach (var note in builds.Notes)
        {
            text.AppendLine($"- {note}");
        }

        text.AppendLine($"- other processes used {Fmt.Cores(load.OtherCores)} cores on average from the start of the measurements to the end (the machine is shared); load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}.");
        return text.ToString();
    }

    private static string Label(string endpoint) => endpoint == "ledger" ? "`/ledger`" : $"`/report?format={endpoint["report ".Length..]}`";

    private static double P(IReadOnlyList<double> values, double p) => Percentiles.OfSorted([.. values.Order()], p);
}
