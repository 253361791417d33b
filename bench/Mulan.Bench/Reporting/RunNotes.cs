using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;

namespace Mulan.Bench.Reporting;

/// <summary>The report's notes: what was built, how loaded the shared machine was, and caveats of the arms.</summary>
internal static class RunNotes
{
    public static IReadOnlyList<string> Collect(ReleaseBuilds builds, BenchPlan plan, ArmSet arms, LoadReading load)
    {
        var notes = new List<string>(builds.Notes)
        {
            $"other processes on this machine used {Fmt.Cores(load.OtherCores)} cores on average while the arms were measured "
                + "(it is shared; interleaved rounds spread that over all arms, but large values widen every figure).",
            $"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}.",
        };
        if (plan.WarmupDuration < TimeSpan.FromSeconds(45) && arms.Find(ArmKind.Mulan) is not null)
        {
            notes.Add($"Mulan was warmed for {plan.WarmupDuration.TotalSeconds:0} s only; on two cores it runs tier-0/PGO-instrumented code for about "
                + "the first 40 s of load (and about half its steady req/s), so these Mulan figures are pessimistic. Use the full mode for published numbers.");
        }

        if (arms.Find(ArmKind.Portkey) is not null)
        {
            notes.AddRange(PortkeyInstall.ReportNotes);
        }

        return notes;
    }
}
