using Mulan.Evaluations;

namespace Mulan.Pilots;

public static class AcceptanceStatuses
{
    public const string Passed = "passed";
    public const string Failed = "failed";
    /// <summary>No run of the set yet, or no evaluation feature in this server.</summary>
    public const string NotEvaluated = "not_evaluated";
    /// <summary>The run did not measure the metric (e.g. refusal precision of a set without refusal items).</summary>
    public const string NotMeasured = "not_measured";
    public const string NoCriteria = "no_criteria";
}

/// <param name="Direction"><c>min</c> (the value must reach the threshold) or <c>max</c> (must not exceed it).</param>
public sealed record CriterionResult(string Metric, double Threshold, string Set, string Direction, string Status, string? RunId, double? Value,
    DateTimeOffset? EndedAt);

public sealed record ItemAcceptance(string ItemId, string Title, string Priority, string Status, IReadOnlyList<CriterionResult> Criteria);

/// <summary>Judges criteria by evaluation outcomes. Pure: the caller fetches the latest run per criterion.</summary>
public static class Acceptance
{
    public static string DirectionOf(string metric) => EvaluationMetrics.LowerIsBetter(metric) ? "max" : "min";

    public static CriterionResult Judge(Criterion criterion, EvaluationOutcome? latest)
    {
        var direction = DirectionOf(criterion.Metric);
        if (latest is null)
        {
            return new(criterion.Metric, criterion.Threshold, criterion.Set, direction, AcceptanceStatuses.NotEvaluated, null, null, null);
        }
        double? value = criterion.Metric == EvaluationMetrics.Cost && !latest.Metrics.ContainsKey(EvaluationMetrics.Cost)
            ? (double)latest.CostAmount
            : latest.Metrics.TryGetValue(criterion.Metric, out var v) ? v : null;
        if (value is not { } measured || !double.IsFinite(measured))
        {
            return new(criterion.Metric, criterion.Threshold, criterion.Set, direction, AcceptanceStatuses.NotMeasured, latest.RunId, null, latest.EndedAt);
        }
        var passed = direction == "max" ? measured <= criterion.Threshold : measured >= criterion.Threshold;
        return new(criterion.Metric, criterion.Threshold, criterion.Set, direction, passed ? AcceptanceStatuses.Passed : AcceptanceStatuses.Failed,
            latest.RunId, measured, latest.EndedAt);
    }

    /// <summary>An item passes when every criterion passes; one failure fails it; otherwise it is not (fully) evaluated.</summary>
    public static ItemAcceptance Item(ScopeItem item, IReadOnlyList<CriterionResult> results)
    {
        var status = results.Count == 0 ? AcceptanceStatuses.NoCriteria
            : results.Any(r => r.Status == AcceptanceStatuses.Failed) ? AcceptanceStatuses.Failed
            : results.All(r => r.Status == AcceptanceStatuses.Passed) ? AcceptanceStatuses.Passed
            : AcceptanceStatuses.NotEvaluated;
        return new(item.Id, item.Title, item.Priority, status, results);
    }

    /// <summary>Every item's acceptance, from the seam when the server has one (else every criterion is not evaluated).</summary>
    public static async Task<IReadOnlyList<ItemAcceptance>> EvaluateAsync(string workspaceId, IReadOnlyList<ScopeItem> scope, IEvaluationResults? results,
        CancellationToken ct)
    {
        var list = new List<ItemAcceptance>();
        // Criteria often share a set (and items an app): each run's outcome is read once per report, not once per criterion.
        var latest = new Dictionary<(string Set, string? App), EvaluationOutcome?>();
        foreach (var item in scope)
        {
            var judged = new List<CriterionResult>();
            foreach (var c in item.Criteria)
            {
                if (results is not null && !latest.ContainsKey((c.Set, item.App)))
                {
                    latest[(c.Set, item.App)] = await results.LatestAsync(workspaceId, c.Set, item.App, ct);
                }
                judged.Add(Judge(c, results is null ? null : latest[(c.Set, item.App)]));
            }
            list.Add(Item(item, judged));
        }
        return list;
    }
}
