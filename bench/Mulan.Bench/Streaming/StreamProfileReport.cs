using System.Globalization;
using System.Text;
using Mulan.Bench.Arms;
using Mulan.Bench.Reporting;

namespace Mulan.Bench.Streaming;

/// <summary>The report sections for profiles A and B.</summary>
internal static class StreamProfileReport
{
    public static string RenderA(StreamProfileResult a, BenchPlan plan, IReadOnlyDictionary<ArmKind, string> unavailable)
    {
        var table = new MarkdownTable("arm", "TTFT p50 ms", "TTFT p99 ms", "added TTFT p50", "added TTFT p99", "gap p50 ms", "gap p99 ms",
            "added gap p99", $"merged (<{StreamProfileResult.MergedBelowMs:0} ms)", $"slow gaps (≥{StreamProfileResult.SlowGapFromMs:0} ms)", "lost deltas", "complete");
        foreach (var arm in a.Arms)
        {
            var baseline = arm == ArmKind.Direct;
            var gaps = a.Gaps(arm);
            table.Row(arm.Name(), Fmt.Ms(a.TtftP50(arm)), Fmt.Ms(a.TtftP99(arm)),
                baseline ? "—" : Fmt.Delta(a.AddedTtftP50(arm)), baseline ? "—" : Fmt.Delta(a.TtftP99(arm) - a.TtftP99(ArmKind.Direct)),
                Fmt.Ms(gaps.P50), Fmt.Ms(gaps.P99), baseline ? "—" : Fmt.Delta(gaps.P99 - a.Gaps(ArmKind.Direct).P99),
                $"{a.Merged(arm)} / {a.GapCount(arm)}", $"{a.SlowGaps(arm)} / {a.GapCount(arm)}", Count(a.Lost(arm)),
                $"{a.Complete(arm)}/{a.Streams(arm)}");
        }

        return new StringBuilder()
            .AppendLine("## Streaming, profile A: 64 deltas 20 ms apart")
            .AppendLine()
            .AppendLine($"{plan.StreamRounds} interleaved rounds × {plan.StreamsPerRound} sequential streams per arm. TTFT is request sent → first content delta "
                + "(the vendor waits 20 ms before it, so direct's TTFT is ≈ 20 ms); *gap* is the arrival gap between consecutive content deltas "
                + "(the vendor sends one every 20 ms). TTFT p50 is a median over rounds; p99s and gaps pool all streams. "
                + "*Merged* counts deltas that arrived less than 5 ms after the previous one — sent 20 ms apart, they were held back and "
                + "delivered together; *slow gaps* are the other half of such a hold-back (a ~40 ms Nagle/delayed-ACK signature shows as both).")
            .AppendLine()
            .Append(table)
            .Append(Unavailable(unavailable))
            .ToString();
    }

    public static string RenderB(StreamProfileResult b, BenchPlan plan, IReadOnlyDictionary<ArmKind, string> unavailable)
    {
        var table = new MarkdownTable("arm", "stream time p50 ms", "vs direct", "added µs/delta", "CPU µs/delta", "deltas received", "complete");
        foreach (var arm in b.Arms)
        {
            var baseline = arm == ArmKind.Direct;
            var received = b.All(arm).Sum(t => t.ContentCount);
            table.Row(arm.Name(), Fmt.Ms(b.TotalP50(arm)), baseline ? "—" : Fmt.Ratio(b.TotalRatio(arm)),
                baseline ? "—" : Fmt.Us((b.TotalP50(arm) - b.TotalP50(ArmKind.Direct)) * 1000 / b.Expected),
                Fmt.Us(b.CpuUsPerDelta(arm)), $"{Count(received)} / {Count(b.Streams(arm) * b.Expected)}",
                $"{b.Complete(arm)}/{b.Streams(arm)}");
        }

        return new StringBuilder()
            .AppendLine("## Streaming, profile B: 1,000 deltas, no delay")
            .AppendLine()
            .AppendLine($"{plan.StreamRounds} interleaved rounds × {plan.LongStreamsPerRound} sequential streams per arm. *Stream time* is request sent → last event; "
                + "*added µs/delta* is the arm's extra stream time spread over the 1,000 deltas; *CPU µs/delta* is the arm's own process CPU time per delta "
                + "received (for direct: the fake vendor's cost of producing it). Deltas arrive back to back here, so merging is expected and not counted.")
            .AppendLine()
            .Append(table)
            .Append(Unavailable(unavailable))
            .ToString();
    }

    /// <summary>Arms whose stream check failed: said, not silently missing.</summary>
    public static string Unavailable(IReadOnlyDictionary<ArmKind, string> unavailable) => unavailable.Count == 0
        ? ""
        : Environment.NewLine + string.Concat(unavailable.Select(kv => $"- {kv.Key.Name()}: not measured ({kv.Value}){Environment.NewLine}"));

    private static string Count(int n) => n.ToString("#,0", CultureInfo.InvariantCulture);
}
