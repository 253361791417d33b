using System.Text;
using Mulan.Bench.Arms;
using Mulan.Bench.Latency;
using Mulan.Bench.Streaming;
using Mulan.Bench.Throughput;

namespace Mulan.Bench.Reporting;

/// <summary>The whole Markdown report: how it was run, where, the headline ratios, then each measurement.</summary>
internal static class BenchReport
{
    public static string Render(BenchOptions options, BenchPlan plan, MachineInfo machine, ArmSet arms, BenchResults r, IReadOnlyList<string> notes)
    {
        var active = arms.Active.Select(a => a.Kind).ToList();
        var streamingUnavailable = arms.Active.Where(a => !a.CanStream).ToDictionary(a => a.Kind, a => a.StreamingUnavailable!);
        var text = new StringBuilder()
            .AppendLine("# Mulan gateway benchmark")
            .AppendLine()
            .AppendLine($"- command: `dotnet run -c Release --project bench/Mulan.Bench --{(options.Raw.Count > 0 ? " " + string.Join(' ', options.Raw) : "")}`")
            .AppendLine($"- mode: {plan.Mode}; arms: {string.Join(", ", active.Select(a => a.Name()))}")
            .Append(options.MulanEnvironment.Count == 0 ? "" : $"- Mulan's extra environment: {string.Join(", ", options.MulanEnvironment.Select(kv => $"`{kv.Key}={kv.Value}`"))}{Environment.NewLine}")
            .Append(machine.Render())
            .AppendLine()
            .AppendLine("All arms forward to the same fake vendor process and are measured in this one run, interleaved. "
                + "Absolute times depend on this machine and its load; compare the ratios and the *added* columns.")
            .AppendLine()
            .AppendLine("## Summary")
            .AppendLine()
            .Append(Summary(r, active))
            .AppendLine()
            .AppendLine("## Findings")
            .AppendLine()
            .Append(Findings.Render(r, active))
            .AppendLine()
            .Append(LatencyReport.Render(r.Latency, plan))
            .AppendLine()
            .Append(ThroughputReport.Render(r.Throughput, plan))
            .AppendLine()
            .Append(StreamProfileReport.RenderA(r.StreamA, plan, streamingUnavailable))
            .AppendLine()
            .Append(StreamProfileReport.RenderB(r.StreamB, plan, streamingUnavailable))
            .AppendLine()
            .Append(ConcurrentStreamsReport.Render(r.Concurrent, plan.StreamLevelRounds, streamingUnavailable));
        if (arms.Skipped.Count > 0 || notes.Count > 0)
        {
            text.AppendLine().AppendLine("## Notes").AppendLine();
            foreach (var (kind, reason) in arms.Skipped)
            {
                text.AppendLine($"- {kind.Name()} was skipped: {reason}");
            }

            foreach (var note in notes)
            {
                text.AppendLine($"- {note}");
            }
        }

        return text.ToString();
    }

    private static string Summary(BenchResults r, IReadOnlyList<ArmKind> arms)
    {
        var table = new MarkdownTable("figure", "value");
        foreach (var arm in arms.Where(a => a != ArmKind.Direct))
        {
            table.Row($"{arm.Name()} added latency, concurrency 1 (p50 / p99 ms)", $"{Fmt.Delta(r.Latency.AddedP50(arm))} / {Fmt.Delta(r.Latency.AddedP99(arm))}");
        }

        Ratio(table, arms, ArmKind.Mulan, ArmKind.Nginx, "Mulan added p50 ÷ nginx added p50",
            () => Fmt.Ratio(Fmt.Divide(r.Latency.AddedP50(ArmKind.Mulan), r.Latency.AddedP50(ArmKind.Nginx))));
        Ratio(table, arms, ArmKind.MulanNormalSync, ArmKind.Nginx, "Mulan (LedgerSync=Normal) added p50 ÷ nginx added p50",
            () => Fmt.Ratio(Fmt.Divide(r.Latency.AddedP50(ArmKind.MulanNormalSync), r.Latency.AddedP50(ArmKind.Nginx))));
        // The cost of translating a protocol: the same gateway and vendor, Anthropic Messages instead of pass-through.
        Ratio(table, arms, ArmKind.MulanAnthropic, ArmKind.Mulan, "Mulan to Anthropic (translated) added p50 ÷ Mulan pass-through added p50",
            () => Fmt.Ratio(Fmt.Divide(r.Latency.AddedP50(ArmKind.MulanAnthropic), r.Latency.AddedP50(ArmKind.Mulan))));
        Ratio(table, arms, ArmKind.MulanAnthropic, ArmKind.Mulan, "Mulan to Anthropic ÷ pass-through CPU per request (" +
            string.Join(" / ", r.Throughput.Concurrency.Select(c => $"c={c}")) + ")",
            () => string.Join(" / ", r.Throughput.Concurrency.Select(c => Fmt.Ratio(Fmt.Divide(r.Throughput.CpuUs(ArmKind.MulanAnthropic, c), r.Throughput.CpuUs(ArmKind.Mulan, c))))));
        Ratio(table, arms, ArmKind.Mulan, ArmKind.Portkey, "Mulan added p50 ÷ Portkey added p50",
            () => Fmt.Ratio(Fmt.Divide(r.Latency.AddedP50(ArmKind.Mulan), r.Latency.AddedP50(ArmKind.Portkey))));
        foreach (var other in new[] { ArmKind.Portkey, ArmKind.Nginx })
        {
            var levels = string.Join(" / ", r.Throughput.Concurrency.Select(c => $"c={c}"));
            Ratio(table, arms, ArmKind.Mulan, other, $"Mulan ÷ {other.Name()} req/s ({levels})",
                () => string.Join(" / ", r.Throughput.Concurrency.Select(c => Fmt.Ratio(r.Throughput.RatioRps(ArmKind.Mulan, other, c)))));

            // CPU per request holds even when the client side, not the gateway, limited req/s.
            Ratio(table, arms, ArmKind.Mulan, other, $"Mulan ÷ {other.Name()} CPU per request ({levels})",
                () => string.Join(" / ", r.Throughput.Concurrency.Select(c => Fmt.Ratio(Fmt.Divide(r.Throughput.CpuUs(ArmKind.Mulan, c), r.Throughput.CpuUs(other, c))))));
        }

        foreach (var arm in arms.Where(a => a != ArmKind.Direct && r.StreamA.Has(a)))
        {
            table.Row($"{arm.Name()} profile A: added TTFT p50, added gap p99 (ms); merged / lost deltas",
                $"{Fmt.Delta(r.StreamA.AddedTtftP50(arm))}, {Fmt.Delta(r.StreamA.Gaps(arm).P99 - r.StreamA.Gaps(ArmKind.Direct).P99)}; {r.StreamA.Merged(arm)} / {r.StreamA.Lost(arm)}");
        }

        foreach (var arm in arms.Where(a => a != ArmKind.Direct && r.StreamB.Has(a)))
        {
            table.Row($"{arm.Name()} profile B: stream time vs direct; CPU µs per delta", $"{Fmt.Ratio(r.StreamB.TotalRatio(arm))}; {Fmt.Us(r.StreamB.CpuUsPerDelta(arm))}");
        }

        foreach (var arm in arms.Where(r.Concurrent.Has))
        {
            table.Row($"{arm.Name()} concurrent profile-A streams sustained without a stall", r.Concurrent.Sustained(arm).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return table.ToString();
    }

    private static void Ratio(MarkdownTable table, IReadOnlyList<ArmKind> arms, ArmKind a, ArmKind b, string name, Func<string> value)
    {
        if (arms.Contains(a) && arms.Contains(b))
        {
            table.Row(name, value());
        }
    }
}
