using Mulan.Bench.Stats;

namespace Mulan.Bench.Apps;

/// <summary>One arm at one concurrency in one round of the closed loop.</summary>
/// <param name="MulanCpuUs">CPU time of the arm's Mulan process per answered request, µs.</param>
/// <param name="MulanCores">That CPU time over the window, in cores (2 = both cores of the machine).</param>
/// <param name="VendorCores">The fake vendor's CPU over the window, in cores.</param>
/// <param name="OtherCores">CPU of processes outside the benchmark over the window, in cores (the machine is shared).</param>
internal sealed record LoadPoint(string Arm, string Ledger, int Concurrency, int Round, double Rps, double P50, double P95, double P99, int Errors,
    string? FirstError, double MulanCpuUs, double MulanCores, double VendorCores, double OtherCores);

/// <summary>Everything one apps run measured; latencies per round are keyed by arm name.</summary>
internal sealed record AppsResults(
    IReadOnlyList<string> LatencyArms,
    IReadOnlyList<IReadOnlyDictionary<string, Samples>> Latency,
    IReadOnlyList<string> StreamArms,
    IReadOnlyList<IReadOnlyDictionary<string, (Samples FirstToken, Samples Total)>> Streams,
    IReadOnlyList<LoadPoint> Load,
    double AppFoundShare)
{
    public double LatencyAt(string arm, double p) => Percentiles.Median(Latency.Select(r => r[arm].At(p)));

    /// <summary>Median over rounds of (a's quantile − b's quantile in the same round).</summary>
    public double AddedAt(string a, string b, double p) => Percentiles.Median(Latency.Select(r => r[a].At(p) - r[b].At(p)));

    /// <summary>Median over rounds of (a's quantile ÷ b's quantile in the same round).</summary>
    public double RatioAt(string a, string b, double p) => Percentiles.Median(Latency.Select(r => r[a].At(p) / r[b].At(p)));

    public int LatencyErrors(string arm) => Latency.Sum(r => r[arm].Errors);

    public int LatencyCount(string arm) => Latency.Sum(r => r[arm].Ms.Count);

    public string? LatencyFirstError(string arm) => Latency.Select(r => r[arm].FirstError).FirstOrDefault(e => e is not null);

    public double StreamAt(string arm, bool firstToken, double p) =>
        Percentiles.Median(Streams.Select(r => (firstToken ? r[arm].FirstToken : r[arm].Total).At(p)));

    public int StreamErrors(string arm) => Streams.Sum(r => r[arm].Total.Errors);

    public IEnumerable<LoadPoint> Points(string arm, int c) => Load.Where(p => p.Arm == arm && p.Concurrency == c);

    public double LoadMedian(string arm, int c, Func<LoadPoint, double> pick) => Percentiles.Median(Points(arm, c).Select(pick));

    /// <summary>Median over rounds of a's req/s ÷ b's req/s in the same round and at the same concurrency.</summary>
    public double RpsRatio(string a, string b, int c) => Percentiles.Median(
        Points(a, c).Join(Points(b, c), x => x.Round, y => y.Round, (x, y) => y.Rps > 0 ? x.Rps / y.Rps : double.NaN));
}
