using System.Globalization;
using System.Text;
using Mulan.Bench.Arms;
using Mulan.Bench.Reporting;

namespace Mulan.Bench.Streaming;

/// <summary>The report section for <see cref="ConcurrentStreamsResult"/>.</summary>
internal static class ConcurrentStreamsReport
{
    public static string Render(ConcurrentStreamsResult result, int rounds, IReadOnlyDictionary<ArmKind, string> unavailable)
    {
        var table = new MarkdownTable("streams", "arm", "complete", "stalled", "TTFT p50 ms", "TTFT p99 ms", "gap p50 ms", "gap p99 ms", "max gap ms",
            "merged", "lost deltas", "core busy", "other load");
        foreach (var level in result.Levels)
        {
            foreach (var arm in result.Arms)
            {
                if (result.At(arm, level) is not { } s)
                {
                    continue;
                }

                table.Row(level.ToString(CultureInfo.InvariantCulture), arm.Name(), $"{s.Complete}/{s.Started}", s.Stalled.ToString(CultureInfo.InvariantCulture),
                    Fmt.Ms(s.TtftP50), Fmt.Ms(s.TtftP99), Fmt.Ms(s.GapP50), Fmt.Ms(s.GapP99), Fmt.Ms(s.MaxGap),
                    $"{s.Merged} / {s.GapCount}", s.Lost.ToString(CultureInfo.InvariantCulture), Fmt.Pct(s.CoreUtilization), Fmt.Cores(s.OtherCores));
            }
        }

        var text = new StringBuilder()
            .AppendLine("## Concurrent streams (profile A)")
            .AppendLine()
            .AppendLine($"At each level all streams start at once (new connections included in TTFT); each level is run {rounds} time(s) per arm, arms taking turns. "
                + "Counts are summed over those rounds, percentiles are medians over them, *max gap* is the largest seen. *Stalled*: a stream that did not complete or had an "
                + $"inter-delta gap above {result.StallMs:0} ms. *Core busy* is the arm's process CPU over the level's wall time. Direct at the same level shows "
                + "what the load generator and the vendor (sharing one core) can carry; gaps beyond direct's are the gateway's.")
            .AppendLine()
            .Append(table)
            .AppendLine()
            .AppendLine("Sustained without a stall: " + string.Join(", ", result.Arms.Select(a => $"{a.Name()} {result.Sustained(a)}")) + ".");
        var ratios = result.Levels
            .Select(l => (Level: l, Mulan: result.At(ArmKind.Mulan, l), Nginx: result.At(ArmKind.Nginx, l)))
            .Where(x => x.Mulan is not null && x.Nginx is not null)
            .Select(x => $"{Fmt.Ratio(Fmt.Divide(x.Mulan!.GapP99, x.Nginx!.GapP99))} at {x.Level}")
            .ToList();
        if (ratios.Count > 0)
        {
            text.AppendLine().AppendLine("Mulan p99 gap ÷ nginx p99 gap: " + string.Join(", ", ratios) + ".");
        }

        return text.Append(StreamProfileReport.Unavailable(unavailable)).ToString();
    }
}
