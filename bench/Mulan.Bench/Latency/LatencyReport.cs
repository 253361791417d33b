using System.Text;
using Mulan.Bench.Arms;
using Mulan.Bench.Reporting;

namespace Mulan.Bench.Latency;

/// <summary>The report section for <see cref="LatencyResult"/>.</summary>
internal static class LatencyReport
{
    public static string Render(LatencyResult result, BenchPlan plan)
    {
        var table = new MarkdownTable("arm", "p50 ms", "p99 ms", "added p50 ms", "added p99 ms", "requests", "errors");
        foreach (var arm in result.Arms)
        {
            var baseline = arm == ArmKind.Direct;
            table.Row(arm.Name(), Fmt.Ms(result.P50(arm)), Fmt.Ms(result.P99(arm)),
                baseline ? "—" : Fmt.Delta(result.AddedP50(arm)), baseline ? "—" : Fmt.Delta(result.AddedP99(arm)),
                Fmt.Int(result.Samples(arm)), Errors(result, arm));
        }

        var text = new StringBuilder()
            .AppendLine("## Non-streaming latency, concurrency 1")
            .AppendLine()
            .AppendLine($"{plan.LatencyRounds} interleaved rounds × {plan.LatencyRequestsPerRound} sequential requests per arm, after a warm-up of every arm (closed loop at concurrency 16: {plan.WarmupDuration.TotalSeconds:0} s for Mulan and Portkey, "
                + $"{plan.ShortWarmupDuration.TotalSeconds:0} s more for direct and nginx; then {plan.WarmupRequests} sequential requests). "
                + "Figures are medians over rounds; *added* is the arm minus direct in the same round.")
            .AppendLine()
            .Append(table);
        if (result.Has(ArmKind.Mulan) && result.Has(ArmKind.Nginx))
        {
            text.AppendLine().AppendLine($"Mulan's added p50 is **{Fmt.Ratio(Fmt.Divide(result.AddedP50(ArmKind.Mulan), result.AddedP50(ArmKind.Nginx)))}** nginx's "
                + $"(p99: {Fmt.Ratio(Fmt.Divide(result.AddedP99(ArmKind.Mulan), result.AddedP99(ArmKind.Nginx)))}).");
        }

        if (result.Has(ArmKind.Mulan) && result.Has(ArmKind.Portkey))
        {
            text.AppendLine().AppendLine($"Mulan's added p50 is {Fmt.Ratio(Fmt.Divide(result.AddedP50(ArmKind.Mulan), result.AddedP50(ArmKind.Portkey)))} Portkey's.");
        }

        return text.ToString();
    }

    private static string Errors(LatencyResult result, ArmKind arm) =>
        result.Errors(arm) == 0 ? "0" : $"{result.Errors(arm)} ({result.FirstError(arm)})";
}
