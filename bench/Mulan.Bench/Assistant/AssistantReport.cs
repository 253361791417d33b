using System.Globalization;
using System.Text;
using Mulan.Bench.Hosting;
using Mulan.Bench.Ingestion;
using Mulan.Bench.Reporting;

namespace Mulan.Bench.Assistant;

/// <summary>The Markdown report of the assistant mode (bench/results/assistant.md).</summary>
internal static class AssistantReport
{
    public static string Render(ModeOptions options, AssistantPlan plan, MachineInfo machine, ReleaseBuilds builds, IngestionCorpus corpus,
        AssistantServer server, int queries, AssistantResults r, LoadReading load, TimeSpan elapsed)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder()
            .AppendLine("## Assistant: the tool-calling loop")
            .AppendLine()
            .AppendLine($"- command: `dotnet run -c Release --project bench/Mulan.Bench -- assistant{(options.Raw.Count > 0 ? " " + string.Join(' ', options.Raw) : "")}`; mode {plan.Mode}; {elapsed.TotalSeconds:0} s")
            .Append(string.Concat(machine.Facts.Where(f => f.Name is not ("nginx" or "node" or "portkey" or "pinning")).Select(f => $"- {f.Name}: {f.Value}{Environment.NewLine}")))
            .AppendLine("- not pinned: Mulan, the fake vendor and this client share the machine's cores, as a two-core server would")
            .AppendLine(string.Create(inv, $"- knowledge base: {server.Documents:N0} JSON `{{title, text}}` documents, keyword only, **{server.Chunks:N0} chunks**; {corpus.Describe()}, {plan.Replicas} cop{(plan.Replicas == 1 ? "y" : "ies")}; ingested in {server.IngestSeconds:0.0} s"))
            .AppendLine($"- app: kind assistant, model `{AssistantServer.Route}` (→ fake vendor `fake-chat+agent`: every `CALL name {{json}}` in the last message becomes a tool call, else it answers `DONE: …`), the knowledge base as its built-in `knowledge_search` tool (top 5)")
            .AppendLine($"- a run's input is K lines `CALL knowledge_search {{\"query\": …}}` with K distinct real dataset questions ({queries:N0} in the pool): model step (K calls) → K tool steps → model step (reads the last passages, answers) → succeeded; every run is checked to have made exactly that")
            .AppendLine("- server: `Storage:LedgerSync=Full` (the default), `Assistant:MaxConcurrentRuns` not set (default 8: more runs wait for a slot); runs started by the administrator key, so charged to the workspace's assistant service key")
            .AppendLine();

        var loop = new MarkdownTable("K", "steps", "runs", "run wall p50 / p95 ms", "client p50 ms", "before first model call p50 ms", "Σ model p50 ms", "Σ tool p50 ms", "loop ms/step p50",
            "loop ms/step p95", "lower bound p50 / p95", "errors");
        foreach (var row in r.Loop)
        {
            loop.Row(row.ToolCalls.ToString(inv), row.Steps.ToString(inv), row.Runs.ToString(inv), $"{Fmt.Ms(row.ServerP50)} / {Fmt.Ms(row.ServerP95)}",
                Fmt.Ms(row.ClientP50), Fmt.Ms(row.Start.Median), Fmt.Ms(row.ModelSumP50), Fmt.Ms(row.ToolSumP50), $"**{Fmt.Ms(row.LoopP50)}**", Fmt.Ms(row.LoopP95),
                $"{Fmt.Ms(row.LoopLowP50)} / {Fmt.Ms(row.LoopLowP95)}", Errors(row.Errors, row.FirstError));
        }

        text.AppendLine("### Loop overhead per step, one run at a time").AppendLine()
            .AppendLine($"{plan.Rounds} rounds × {plan.RunsPerRound} runs per K, K order rotated, after {plan.ToolCalls.Count} + {plan.WarmupRuns} + {AssistantRuns.WarmupBatches(plan) * 8} warm-up runs (one per K, one at a time, 8 at once). "
                + "*Run wall* = the run's createdAt → endedAt (whole ms); *client* = POST to `event: done` on the run's SSE stream; "
                + "*loop ms/step* = (run wall − Σ steps' durationMs) ÷ steps: what neither the model call (gateway pipeline + vendor) nor the search "
                + "accounts for — creating the run, starting it in the background, reading its state, app version and tools, one transaction per step "
                + "(the run row with its whole serialized state + the step row), the final save, the events. *Before first model call* = createdAt → the first "
                + "step's start (creating the run and starting the loop; part of the loop's cost). Step durations are whole milliseconds, "
                + "truncated, so *loop ms/step* is an upper bound; *lower bound* charges every step its durationMs + 1.")
            .AppendLine().Append(loop).AppendLine();

        var refs = new MarkdownTable("K", "model step", "step durationMs median (mean)", "its usage record latencyMs p50 (mean)",
            "same body to /v1/chat/completions, client p50 (mean)", "its usage record latencyMs p50 (mean)");
        foreach (var row in r.Loop)
        {
            refs.Row(row.ToolCalls.ToString(inv), "first", MedianMean(row.FirstModel), MedianMean(row.Gateway.FirstModel), MedianMean(row.DirectFirst),
                MedianMean(row.Gateway.DirectFirst));
            refs.Row(row.ToolCalls.ToString(inv), "last", MedianMean(row.LastModel), MedianMean(row.Gateway.LastModel), MedianMean(row.DirectLast),
                MedianMean(row.Gateway.DirectLast));
        }

        text.AppendLine("### References: model step against a direct call, tool step against the search endpoint").AppendLine()
            .AppendLine($"After each round, every run's first and last model call sent again, one at a time, to `/v1/chat/completions` on the same route with the virtual key: "
                + "the very body the run's first (system + user message, the tool) and last model call sent (the first body plus the model's tool calls and every "
                + "tool result), rebuilt from the run's trace, UTF-8 as the run sends it, with a new number before every message but the system one on each call "
                + "(the fake vendor memoises the token count of every text of 256+ characters, and counting is most of its time on a long prompt; a run's user "
                + $"message and tool results are always new to it); and {plan.ReferenceCallsPerRound} `POST /api/knowledge-bases/{{id}}/search` (topK 5) with queries the "
                + "round's tool steps ran. A step's durationMs is measured in process (no HTTP), the direct calls from this client (with loopback HTTP and "
                + "authentication); step figures are whole ms, so their mean says more than their median. A usage record's latencyMs is the "
                + "gateway's own clock, fractional, from the request's arrival in the pipeline to its record: the same measure on both sides.")
            .AppendLine().Append(refs).AppendLine()
            .AppendLine(string.Create(inv, $"- knowledge_search tool step (all K): median {MedianMean(r.Tool.ToolStep)} ms over {r.Tool.ToolStep.Count:N0} steps; "
                + $"`POST /api/knowledge-bases/{{id}}/search` with the same queries: p50 {MedianMean(r.Tool.Search)} ms over {r.Tool.Search.Count:N0} calls; "
                + $"reference errors: {Errors(r.Tool.Errors, r.Tool.FirstError)}."))
            .AppendLine();

        var concurrent = new MarkdownTable("C", "runs", "runs/s", "steps/s", "run latency p50 / p95 ms", "run wall p50 / p95 ms",
            "before first model call p50 / p95 ms", "loop ms/step p50", "Mulan CPU ms/run", "Mulan cores", "other load", "errors");
        foreach (var row in r.Concurrent)
        {
            concurrent.Row(row.Concurrency.ToString(inv), $"{row.Batches} × {row.Concurrency}", $"**{Fmt.Int(row.RunsPerSecond)}**", Fmt.Int(row.StepsPerSecond),
                $"{Fmt.Ms(row.Client.Median)} / {Fmt.Ms(row.Client.P95)}", $"{Fmt.Ms(row.Server.Median)} / {Fmt.Ms(row.Server.P95)}",
                $"{Fmt.Ms(row.Start.Median)} / {Fmt.Ms(row.Start.P95)}", Fmt.Ms(row.LoopPerStep.Median), Fmt.Ms(row.MulanCpuMsPerRun),
                Fmt.Cores(row.MulanCores), Fmt.Cores(row.OtherCores), Errors(row.Errors, row.FirstError));
        }

        text.AppendLine($"### Concurrent runs (K = {plan.ConcurrentToolCalls}, {plan.ConcurrentToolCalls + 2} steps each)").AppendLine()
            .AppendLine("C runs started at once (C POSTs, then C event streams), the next batch when all C ended. *runs/s*, *steps/s* = runs and steps ÷ the "
                + "batches' wall time; *run latency* = POST to `event: done`; *run wall* = createdAt → endedAt; *before first model call* = createdAt → the "
                + "first step's start (the wait for one of `Assistant:MaxConcurrentRuns` = 8 slots, then the loop's start); *Mulan CPU ms/run* = the Mulan "
                + "process's CPU time over the batches ÷ runs (the POSTs, event streams and runs; the trace reads after are not counted); *Mulan cores* = that "
                + "CPU ÷ wall (2.00 = both cores); *other load* = cores used by processes outside the benchmark.")
            .AppendLine().Append(concurrent).AppendLine();

        text.AppendLine("### Notes").AppendLine();
        foreach (var note in builds.Notes)
        {
            text.AppendLine($"- {note}");
        }

        text.AppendLine($"- other processes used {Fmt.Cores(load.OtherCores)} cores on average from the warm-up to the end (the machine is shared); load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}.");
        return text.ToString();
    }

    private static string MedianMean(Stat s) => s.Count == 0 ? "n/a" : $"{Fmt.Ms(s.Median)} ({Fmt.Ms(s.Mean)})";

    private static string Errors(int count, string? first) => count == 0 ? "0" : $"{count} ({first})";
}
