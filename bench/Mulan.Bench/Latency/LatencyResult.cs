using Mulan.Bench.Arms;
using Mulan.Bench.Stats;

namespace Mulan.Bench.Latency;

/// <summary>One arm's figures in one round.</summary>
internal sealed record LatencyRound(Distribution Ms, int Errors, string? FirstError);

/// <summary>Concurrency-1 latency per arm and round, and the medians the report is made of.</summary>
internal sealed record LatencyResult(IReadOnlyList<ArmKind> Arms, IReadOnlyList<IReadOnlyDictionary<ArmKind, LatencyRound>> Rounds)
{
    public double P50(ArmKind arm) => Percentiles.Median(Rounds.Select(r => r[arm].Ms.P50));

    public double P99(ArmKind arm) => Percentiles.Median(Rounds.Select(r => r[arm].Ms.P99));

    /// <summary>Median over rounds of (arm p50 − direct p50 in the same round): the gateway's added latency.</summary>
    public double AddedP50(ArmKind arm) => Percentiles.Median(Rounds.Select(r => r[arm].Ms.P50 - r[ArmKind.Direct].Ms.P50));

    public double AddedP99(ArmKind arm) => Percentiles.Median(Rounds.Select(r => r[arm].Ms.P99 - r[ArmKind.Direct].Ms.P99));

    public int Errors(ArmKind arm) => Rounds.Sum(r => r[arm].Errors);

    public string? FirstError(ArmKind arm) => Rounds.Select(r => r[arm].FirstError).FirstOrDefault(e => e is not null);

    public int Samples(ArmKind arm) => Rounds.Sum(r => r[arm].Ms.Count);

    public bool Has(ArmKind arm) => Arms.Contains(arm);
}
