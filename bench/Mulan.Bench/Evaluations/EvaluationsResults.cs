using Mulan.Bench.Stats;

namespace Mulan.Bench.Evaluations;

/// <summary>One concurrency of the evaluation part: the runs against the direct passes, medians over rounds.</summary>
/// <param name="Ratio">median over rounds of (run items/s ÷ direct req/s) in the same round.</param>
internal sealed record ConcurrencyFigures(int Concurrency, int Rounds, double ItemsPerSecond, double DirectPerSecond, double Ratio, double RunWallMs,
    double ClientMs, double CpuMsPerItem, double CpuMsPerRequest)
{
    public static ConcurrencyFigures Of(int concurrency, IReadOnlyList<Pass> passes, int items)
    {
        var runs = passes.Where(p => p.Concurrency == concurrency && p.Evaluation).ToList();
        var direct = passes.Where(p => p.Concurrency == concurrency && !p.Evaluation).ToList();
        var ratios = runs.Join(direct, r => r.Round, d => d.Round, (r, d) => d.Seconds / r.Seconds);
        return new ConcurrencyFigures(concurrency, runs.Count, Percentiles.Median(runs.Select(r => items / r.Seconds)),
            Percentiles.Median(direct.Select(d => items / d.Seconds)), Percentiles.Median(ratios), Percentiles.Median(runs.Select(r => r.Seconds * 1000)),
            Percentiles.Median(runs.Select(r => r.ClientSeconds * 1000)), Percentiles.Median(runs.Select(r => r.MulanCpuSeconds * 1000 / items)),
            Percentiles.Median(direct.Select(d => d.MulanCpuSeconds * 1000 / items)));
    }
}

internal sealed record EvaluationsResults(IReadOnlyList<ConcurrencyFigures> Evaluations, long EvaluationRecords, IReadOnlyList<SeedStep> Seeds,
    IReadOnlyList<EndpointTiming> Reports);
