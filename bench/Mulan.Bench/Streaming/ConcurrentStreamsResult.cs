using Mulan.Bench.Arms;
using Mulan.Bench.Stats;

namespace Mulan.Bench.Streaming;

/// <summary>One burst: one arm, one level, one round.</summary>
internal sealed record ConcurrentStreamsSample(ArmKind Arm, int Streams, IReadOnlyList<StreamTrace> Traces, double ElapsedSeconds, double CpuSeconds, double OtherCores)
{
    public const int Expected = Workloads.StreamADeltas;

    public Distribution Ttft => Percentiles.Of(Traces.Select(t => t.TimeToFirstTokenMs).OfType<double>());

    public Distribution Gaps => Percentiles.Of(Traces.SelectMany(t => t.ContentGapsMs()));

    public double CoreUtilization => ElapsedSeconds > 0 ? CpuSeconds / ElapsedSeconds : double.NaN;
}

/// <summary>All rounds of one arm at one level: counts are summed, percentiles are medians over rounds.</summary>
internal sealed record ConcurrentStreamsLevel(ArmKind Arm, int Streams, IReadOnlyList<ConcurrentStreamsSample> Rounds, double StallMs)
{
    private IEnumerable<StreamTrace> All => Rounds.SelectMany(r => r.Traces);

    public int Started => Rounds.Sum(r => r.Traces.Count);

    public int Complete => All.Count(t => t.IsComplete(ConcurrentStreamsSample.Expected));

    /// <summary>Streams that did not complete or had a gap above the stall bound.</summary>
    public int Stalled => All.Count(t => !t.IsComplete(ConcurrentStreamsSample.Expected) || t.ContentGapsMs().Any(g => g > StallMs));

    public double TtftP50 => Percentiles.Median(Rounds.Select(r => r.Ttft.P50));

    public double TtftP99 => Percentiles.Median(Rounds.Select(r => r.Ttft.P99));

    public double GapP50 => Percentiles.Median(Rounds.Select(r => r.Gaps.P50));

    public double GapP99 => Percentiles.Median(Rounds.Select(r => r.Gaps.P99));

    public double MaxGap => Rounds.Select(r => r.Gaps.Max).DefaultIfEmpty(double.NaN).Max();

    public int Merged => All.Sum(t => t.ContentGapsMs().Count(g => g < StreamProfileResult.MergedBelowMs));

    public int GapCount => All.Sum(t => t.ContentGapsMs().Count());

    public int Lost => All.Sum(t => Math.Max(0, ConcurrentStreamsSample.Expected - t.ContentCount));

    public string? FirstError => All.FirstOrDefault(t => !t.IsComplete(ConcurrentStreamsSample.Expected))?.Describe(ConcurrentStreamsSample.Expected);

    public double CoreUtilization => Percentiles.Median(Rounds.Select(r => r.CoreUtilization));

    public double OtherCores => Percentiles.Median(Rounds.Select(r => r.OtherCores));
}

internal sealed record ConcurrentStreamsResult(IReadOnlyList<ArmKind> Arms, IReadOnlyList<int> Levels, IReadOnlyList<ConcurrentStreamsSample> Samples, double StallMs)
{
    public ConcurrentStreamsLevel? At(ArmKind arm, int streams)
    {
        var rounds = Samples.Where(s => s.Arm == arm && s.Streams == streams).ToList();
        return rounds.Count == 0 ? null : new ConcurrentStreamsLevel(arm, streams, rounds, StallMs);
    }

    /// <summary>The highest level at which every stream of every round completed without a stall.</summary>
    public int Sustained(ArmKind arm) => Levels.Where(l => At(arm, l) is { Stalled: 0 }).DefaultIfEmpty(0).Max();

    public bool Has(ArmKind arm) => Arms.Contains(arm);
}
