using Mulan.Bench.Arms;
using Mulan.Bench.Stats;

namespace Mulan.Bench.Streaming;

/// <summary>Traces of one streaming profile per arm and round, with the figures the report needs.</summary>
internal sealed record StreamProfileResult(Workload Workload, IReadOnlyList<ArmKind> Arms,
    IReadOnlyDictionary<ArmKind, List<List<StreamTrace>>> Rounds, IReadOnlyDictionary<ArmKind, double> CpuSeconds)
{
    /// <summary>
    /// A gap below a quarter of the upstream's 20 ms means two deltas sent 20 ms apart reached the client together:
    /// something on the path held the first one back.
    /// </summary>
    public const double MergedBelowMs = Workloads.StreamAGapMs / 4.0;

    /// <summary>Gaps near twice the upstream's are the other half of a hold-back (the ~40 ms delayed-ACK signature).</summary>
    public const double SlowGapFromMs = Workloads.StreamAGapMs * 1.75;

    public int Expected => Workload.ExpectedDeltas();

    public IEnumerable<StreamTrace> All(ArmKind arm) => Rounds[arm].SelectMany(r => r);

    public int Streams(ArmKind arm) => All(arm).Count();

    public int Complete(ArmKind arm) => All(arm).Count(t => t.IsComplete(Expected));

    /// <summary>Deltas the upstream sent that never reached the client.</summary>
    public int Lost(ArmKind arm) => All(arm).Sum(t => Math.Max(0, Expected - t.ContentCount));

    public string? FirstError(ArmKind arm) => All(arm).FirstOrDefault(t => !t.IsComplete(Expected))?.Describe(Expected);

    /// <summary>Median over rounds of each round's median time to first token.</summary>
    public double TtftP50(ArmKind arm) => Percentiles.Median(Rounds[arm].Select(r => Percentiles.Of(Ttfts(r)).P50));

    /// <summary>Over all streams: a round holds too few streams for its own p99.</summary>
    public double TtftP99(ArmKind arm) => Percentiles.Of(Ttfts(All(arm))).P99;

    /// <summary>Median over rounds of (arm − direct) of the rounds' median time to first token.</summary>
    public double AddedTtftP50(ArmKind arm) => Percentiles.Median(Rounds[arm].Zip(Rounds[ArmKind.Direct],
        (a, d) => Percentiles.Of(Ttfts(a)).P50 - Percentiles.Of(Ttfts(d)).P50));

    public Distribution Gaps(ArmKind arm) => Percentiles.Of(All(arm).SelectMany(t => t.ContentGapsMs()));

    public int GapCount(ArmKind arm) => All(arm).Sum(t => t.ContentGapsMs().Count());

    public int Merged(ArmKind arm) => All(arm).Sum(t => t.ContentGapsMs().Count(g => g < MergedBelowMs));

    public int SlowGaps(ArmKind arm) => All(arm).Sum(t => t.ContentGapsMs().Count(g => g >= SlowGapFromMs));

    /// <summary>Median over rounds of each round's median total stream time (request sent to last event).</summary>
    public double TotalP50(ArmKind arm) => Percentiles.Median(Rounds[arm].Select(r => Percentiles.Median(r.Select(t => t.TotalMs))));

    public double TotalRatio(ArmKind arm) => Percentiles.Median(Rounds[arm].Zip(Rounds[ArmKind.Direct],
        (a, d) => Percentiles.Median(a.Select(t => t.TotalMs)) / Percentiles.Median(d.Select(t => t.TotalMs))));

    /// <summary>CPU time of the arm's process per delta received, in µs.</summary>
    public double CpuUsPerDelta(ArmKind arm)
    {
        var deltas = All(arm).Sum(t => t.ContentCount);
        return deltas > 0 ? CpuSeconds[arm] * 1e6 / deltas : double.NaN;
    }

    public bool Has(ArmKind arm) => Arms.Contains(arm);

    private static IEnumerable<double> Ttfts(IEnumerable<StreamTrace> traces) =>
        traces.Select(t => t.TimeToFirstTokenMs).OfType<double>();
}
