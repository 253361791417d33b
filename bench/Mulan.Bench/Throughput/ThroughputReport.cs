using System.Text;
using Mulan.Bench.Arms;
using Mulan.Bench.Reporting;

namespace Mulan.Bench.Throughput;

/// <summary>The report section for <see cref="ThroughputResult"/>.</summary>
internal static class ThroughputReport
{
    public static string Render(ThroughputResult result, BenchPlan plan)
    {
        var table = new MarkdownTable("arm", "concurrency", "req/s", "vs direct", "p50 ms", "p99 ms", "CPU µs/req", "core busy", "load core busy", "other load", "errors");
        foreach (var c in result.Concurrency)
        {
            foreach (var arm in result.Arms)
            {
                table.Row(arm.Name(), c.ToString(System.Globalization.CultureInfo.InvariantCulture), Fmt.Int(result.Rps(arm, c)),
                    arm == ArmKind.Direct ? "—" : Fmt.Ratio(result.RatioRps(arm, ArmKind.Direct, c)),
                    Fmt.Ms(result.P50(arm, c)), Fmt.Ms(result.P99(arm, c)), Fmt.Us(result.CpuUs(arm, c)), Fmt.Pct(result.Utilization(arm, c)), Fmt.Pct(result.LoadCoreBusy(arm, c)), Fmt.Cores(result.OtherCores(arm, c)),
                    result.Errors(arm, c) == 0 ? "0" : $"{result.Errors(arm, c)} ({result.FirstError(arm, c)})");
            }
        }

        var text = new StringBuilder()
            .AppendLine("## Non-streaming throughput")
            .AppendLine()
            .AppendLine($"Closed loop: C workers, each sending its next request when the last is answered; {plan.ThroughputRounds} round(s) of "
                + $"{plan.ThroughputWarmup.TotalSeconds:0.#} s warm-up + {plan.ThroughputWindow.TotalSeconds:0.#} s measured per arm and concurrency, arms interleaved; medians over rounds. "
                + "*CPU µs/req* is the arm's own process CPU time (user+system, all its processes) per answered request; *core busy* is that CPU time over "
                + "the window (100% = the gateway's core is saturated, so req/s is the gateway's limit); *load core busy* is CPU 0, where the load generator "
                + "and the fake vendor run, system-wide — near 100% there means the client side, not the gateway, set the pace. "
                + "*Other load* is CPU used meanwhile by processes outside this benchmark, in cores (the machine is shared; "
                + "anything well above 0 slowed every arm it overlapped). For direct, CPU µs/req and core busy describe the fake vendor itself.")
            .AppendLine()
            .Append(table);
        foreach (var (a, b) in new[] { (ArmKind.Mulan, ArmKind.Portkey), (ArmKind.Mulan, ArmKind.Nginx) })
        {
            if (result.Has(a) && result.Has(b))
            {
                text.AppendLine().AppendLine($"{a.Name()} ÷ {b.Name()} req/s: "
                    + string.Join(", ", result.Concurrency.Select(c => $"**{Fmt.Ratio(result.RatioRps(a, b, c))}** at concurrency {c}"))
                    + $"; CPU per request {string.Join(", ", result.Concurrency.Select(c => Fmt.Ratio(Fmt.Divide(result.CpuUs(a, c), result.CpuUs(b, c)))))}.");
            }
        }

        return text.ToString();
    }
}
