using Mulan.Bench.Arms;
using Mulan.Bench.Stats;

namespace Mulan.Bench.Streaming;

/// <summary>One arm at one level of concurrent streams.</summary>
internal sealed record ConcurrentStreamsSample(ArmKind Arm, int Streams, IReadOnlyList<StreamTrace> Traces, double ElapsedSeconds, double CpuSeconds)
{
    private const int Expected = Workloads.StreamADeltas;

    public int Complete => Traces.Count(t => t.IsComplete(Expected));

    public Distribution Ttft => Percentiles.Of(Traces.Select(t => t.TimeToFirstTokenMs).OfType<double>());

    public Distribution Gaps => Percentiles.Of(Traces.SelectMany(t => t.ContentGapsMs()));

    public int Merged => Traces.Sum(t => t.ContentGapsMs().Count(g => g < StreamProfileResult.MergedBelowMs));

    public int GapCount => Traces.Sum(t => t.ContentGapsMs().Count());

    public int Lost => Traces.Sum(t => Math.Max(0, Expected - t.ContentCount));

    public string? FirstError => Traces.FirstOrDefault(t => !t.IsComplete(Expected))?.Describe(Expected);

    public double CoreUtilization => ElapsedSeconds > 0 ? CpuSeconds / ElapsedSeconds : double.NaN;

    /// <summary>Streams that did not complete or had a gap above the stall bound.</summary>
    public int Stalled(double stallMs) => Traces.Count(t => !t.IsComplete(Expected) || t.ContentGapsMs().Any(g => g > stallMs));
}

internal sealed record ConcurrentStreamsResult(IReadOnlyList<ArmKind> Arms, IReadOnlyList<int> Levels, IReadOnlyList<ConcurrentStreamsSample> Samples, double StallMs)
{
    public ConcurrentStreamsSample? At(ArmKind arm, int streams) => Samples.FirstOrDefault(s => s.Arm == arm && s.Streams == streams);

    /// <summary>The highest level at which every stream completed without a stall.</summary>
    public int Sustained(ArmKind arm) => Levels.Where(l => At(arm, l) is { } s && s.Stalled(StallMs) == 0).DefaultIfEmpty(0).Max();

    public bool Has(ArmKind arm) => Arms.Contains(arm);
}
