using System.Globalization;

namespace Mulan.Evaluations;

public static class Verdicts
{
    public const string Better = "better";
    public const string Worse = "worse";
    public const string Unchanged = "unchanged";
}

/// <summary>Two runs of one set, item by item. Items are matched by question (so runs of two set versions compare on
/// the questions they share). An item is worse when any quality score dropped, better when one rose and none dropped; an
/// item answered in one run and failed in the other is better or worse by that alone.</summary>
public static class RunComparison
{
    /// <summary>The per-item scores compared; latency and cost are shown but do not decide an item's verdict (they are noisy per item).</summary>
    public static readonly string[] QualityMetrics = [EvaluationMetrics.FactRecall, EvaluationMetrics.SourceHit, "refusalCorrect", EvaluationMetrics.Faithfulness, EvaluationMetrics.Relevance];

    public sealed record MetricChange(double? A, double? B, string Verdict);

    public sealed record ItemComparison(string Question, int? IndexA, int? IndexB, string Verdict, Dictionary<string, MetricChange> Metrics);

    public sealed record Comparison(string A, string B, string Set, int VersionA, int VersionB, Dictionary<string, MetricChange> Metrics,
        Dictionary<string, int> Summary, IReadOnlyList<ItemComparison> Items);

    public static string Verdict(double? a, double? b, bool lowerIsBetter)
    {
        if (a is not { } x || b is not { } y || Math.Abs(x - y) < 1e-9)
        {
            return Verdicts.Unchanged;
        }
        return (y > x) != lowerIsBetter ? Verdicts.Better : Verdicts.Worse;
    }

    private static Dictionary<string, double?> Scores(EvaluationItemResult? r) => new(StringComparer.Ordinal)
    {
        [EvaluationMetrics.FactRecall] = r?.FactRecall,
        [EvaluationMetrics.SourceHit] = r?.SourceHit,
        ["refusalCorrect"] = r is null || r.Error is not null ? null : r.Refused == r.ShouldRefuse ? 1 : 0,
        [EvaluationMetrics.Faithfulness] = r?.Faithfulness,
        [EvaluationMetrics.Relevance] = r?.Relevance,
        ["latencyMs"] = r?.Error is null ? r?.LatencyMs : null,
        [EvaluationMetrics.Cost] = r is null ? null : (double)(r.Cost + r.JudgeCost),
    };

    public static Comparison Compare(EvaluationRun a, IReadOnlyList<EvaluationItemResult> itemsA, EvaluationRun b, IReadOnlyList<EvaluationItemResult> itemsB)
    {
        var byQuestionB = itemsB.GroupBy(i => i.Question, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var items = new List<ItemComparison>();
        foreach (var ia in itemsA)
        {
            if (!seen.Add(ia.Question))
            {
                continue;
            }
            byQuestionB.TryGetValue(ia.Question, out var ib);
            items.Add(Item(ia.Question, ia, ib));
        }
        items.AddRange(itemsB.Where(ib => seen.Add(ib.Question)).Select(ib => Item(ib.Question, null, ib)));
        var overallA = RunScoring.Overall(itemsA);
        var overallB = RunScoring.Overall(itemsB);
        var metrics = EvaluationMetrics.All.ToDictionary(m => m,
            m => new MetricChange(overallA[m], overallB[m], Verdict(overallA[m], overallB[m], EvaluationMetrics.LowerIsBetter(m))), StringComparer.Ordinal);
        var summary = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            [Verdicts.Better] = items.Count(i => i.Verdict == Verdicts.Better),
            [Verdicts.Worse] = items.Count(i => i.Verdict == Verdicts.Worse),
            [Verdicts.Unchanged] = items.Count(i => i.Verdict == Verdicts.Unchanged),
        };
        return new Comparison(a.Id, b.Id, a.SetId, a.SetVersion, b.SetVersion, metrics, summary, items);
    }

    private static ItemComparison Item(string question, EvaluationItemResult? a, EvaluationItemResult? b)
    {
        var sa = Scores(a);
        var sb = Scores(b);
        var metrics = sa.Keys.ToDictionary(k => k, k => new MetricChange(sa[k], sb[k], Verdict(sa[k], sb[k], k is "latencyMs" or EvaluationMetrics.Cost)),
            StringComparer.Ordinal);
        var quality = QualityMetrics.Select(m => metrics[m].Verdict).ToList();
        // A failed call has no scores to compare, which must not read as "unchanged": an item answered in one run and
        // failed in the other lost (or gained) its answer.
        var verdict = a is not null && b is not null && (a.Error is null) != (b.Error is null) ? (b.Error is null ? Verdicts.Better : Verdicts.Worse)
            : quality.Contains(Verdicts.Worse) ? Verdicts.Worse : quality.Contains(Verdicts.Better) ? Verdicts.Better : Verdicts.Unchanged;
        return new ItemComparison(question, a?.Index, b?.Index, verdict, metrics);
    }
}

/// <summary>
/// Runs side by side, ranked: each weighted metric is normalized across the runs to 0..1 (min-max; all equal → 1), lower
/// is better metrics inverted, and the score is the weighted sum divided by the weights' total. A run without a value
/// for a metric gets 0 for it.
/// </summary>
public static class Bakeoff
{
    public static readonly Dictionary<string, double> DefaultWeights = new(StringComparer.Ordinal)
    {
        [EvaluationMetrics.FactRecall] = 0.6, [EvaluationMetrics.Cost] = 0.2, [EvaluationMetrics.LatencyP95Ms] = 0.2,
    };

    public sealed record Row(int Rank, string Run, EvaluationTarget Target, string Status, int Items, double Score, Dictionary<string, double?> Metrics,
        decimal CostPer1000Questions, string? Currency, Dictionary<string, double> Normalized);

    public sealed record Table(Dictionary<string, double> Weights, IReadOnlyList<Row> Rows);

    public static Dictionary<string, double> ParseWeights(string? text, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return new(DefaultWeights, StringComparer.Ordinal);
        }
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(':', 2);
            if (pieces.Length != 2 || !EvaluationMetrics.IsKnown(pieces[0].Trim()))
            {
                errors["weights"] = [$"'{part}': use metric:weight with a metric among {string.Join(", ", EvaluationMetrics.All)}"];
                return weights;
            }
            if (!double.TryParse(pieces[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var w) || w < 0 || w > 1000 || double.IsNaN(w))
            {
                errors["weights"] = [$"'{part}': the weight must be a number between 0 and 1000"];
                return weights;
            }
            weights[pieces[0].Trim()] = w;
        }
        if (weights.Values.Sum() <= 0)
        {
            errors["weights"] = ["at least one weight must be positive"];
        }
        return weights;
    }

    public static Table Rank(IReadOnlyList<(EvaluationRun Run, IReadOnlyList<EvaluationItemResult> Items)> runs, Dictionary<string, double> weights)
    {
        var metrics = runs.Select(r => RunScoring.Overall(r.Items)).ToList();
        // Cost compares per question, so runs over different item counts compare fairly.
        for (var i = 0; i < runs.Count; i++)
        {
            metrics[i]["costPer1000Questions"] = runs[i].Items.Count == 0 ? null : (double)CostPer1000(runs[i].Items);
        }
        var normalized = runs.Select(_ => new Dictionary<string, double>(StringComparer.Ordinal)).ToList();
        foreach (var (metric, _) in weights)
        {
            var key = metric == EvaluationMetrics.Cost ? "costPer1000Questions" : metric;
            var values = metrics.Select(m => m[key]).ToList();
            var present = values.OfType<double>().ToList();
            for (var i = 0; i < runs.Count; i++)
            {
                double n;
                if (values[i] is not { } v)
                {
                    n = 0;
                }
                else if (present.Max() - present.Min() < 1e-12)
                {
                    n = 1;
                }
                else
                {
                    n = (v - present.Min()) / (present.Max() - present.Min());
                    n = EvaluationMetrics.LowerIsBetter(metric) ? 1 - n : n;
                }
                normalized[i][metric] = n;
            }
        }
        var total = weights.Values.Sum();
        var rows = runs.Select((r, i) => (r, i, score: weights.Sum(w => w.Value * normalized[i][w.Key]) / total))
            .OrderByDescending(x => x.score).ThenBy(x => x.r.Run.CreatedAt)
            .Select((x, rank) => new Row(rank + 1, x.r.Run.Id, x.r.Run.Target, x.r.Run.Status, x.r.Items.Count, Math.Round(x.score, 6), metrics[x.i],
                CostPer1000(x.r.Items), x.r.Items.Select(it => it.Currency).FirstOrDefault(c => c is not null), normalized[x.i]))
            .ToList();
        return new Table(weights, rows);
    }

    /// <summary>Target and judge cost per 1,000 questions, exact (decimal).</summary>
    public static decimal CostPer1000(IReadOnlyList<EvaluationItemResult> items) =>
        items.Count == 0 ? 0 : items.Sum(i => i.Cost + i.JudgeCost) * 1000m / items.Count;
}
