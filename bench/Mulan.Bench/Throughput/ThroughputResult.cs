using Mulan.Bench.Arms;
using Mulan.Bench.Stats;

namespace Mulan.Bench.Throughput;

/// <summary>One arm at one concurrency in one round.</summary>
internal sealed record ThroughputSample(ArmKind Arm, int Concurrency, int Round, double RequestsPerSecond, Distribution Latency,
    int Errors, string? FirstError, int Answered, double ElapsedSeconds, double CpuSeconds, double LoadCoreBusy, double OtherCores)
{
    /// <summary>CPU time of the arm's process per answered request, in µs.</summary>
    public double CpuMicrosecondsPerRequest => Answered > 0 ? CpuSeconds * 1e6 / Answered : double.NaN;

    /// <summary>Share of one core the arm's process used during the window (1 = its core was saturated).</summary>
    public double CoreUtilization => ElapsedSeconds > 0 ? CpuSeconds / ElapsedSeconds : double.NaN;
}

/// <summary>Throughput per arm and concurrency; every figure is a median over rounds.</summary>
internal sealed record ThroughputResult(IReadOnlyList<ArmKind> Arms, IReadOnlyList<int> Concurrency, IReadOnlyList<ThroughputSample> Samples)
{
    public double Rps(ArmKind arm, int c) => Median(arm, c, s => s.RequestsPerSecond);

    public double P50(ArmKind arm, int c) => Median(arm, c, s => s.Latency.P50);

    public double P99(ArmKind arm, int c) => Median(arm, c, s => s.Latency.P99);

    public double CpuUs(ArmKind arm, int c) => Median(arm, c, s => s.CpuMicrosecondsPerRequest);

    public double Utilization(ArmKind arm, int c) => Median(arm, c, s => s.CoreUtilization);

    /// <summary>How busy the load generator's core (shared with the fake vendor) was, system-wide.</summary>
    public double LoadCoreBusy(ArmKind arm, int c) => Median(arm, c, s => s.LoadCoreBusy);

    /// <summary>CPU used by processes outside the benchmark during the windows, in cores.</summary>
    public double OtherCores(ArmKind arm, int c) => Median(arm, c, s => s.OtherCores);

    public int Errors(ArmKind arm, int c) => Of(arm, c).Sum(s => s.Errors);

    public string? FirstError(ArmKind arm, int c) => Of(arm, c).Select(s => s.FirstError).FirstOrDefault(e => e is not null);

    /// <summary>Median over rounds of the per-round ratio a/b, so both sides of each ratio come from the same moment.</summary>
    public double RatioRps(ArmKind a, ArmKind b, int c) => Percentiles.Median(
        Samples.Where(s => s.Arm == a && s.Concurrency == c)
            .Join(Samples.Where(s => s.Arm == b && s.Concurrency == c), s => s.Round, s => s.Round, (x, y) => y.RequestsPerSecond > 0 ? x.RequestsPerSecond / y.RequestsPerSecond : double.NaN));

    public bool Has(ArmKind arm) => Arms.Contains(arm);

    private IEnumerable<ThroughputSample> Of(ArmKind arm, int c) => Samples.Where(s => s.Arm == arm && s.Concurrency == c);

    private double Median(ArmKind arm, int c, Func<ThroughputSample, double> pick) => Percentiles.Median(Of(arm, c).Select(pick));
}
