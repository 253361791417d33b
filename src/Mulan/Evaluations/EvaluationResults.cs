namespace Mulan.Evaluations;

/// <summary><see cref="IEvaluationResults"/> over the evaluation store: succeeded runs with their overall metrics.</summary>
public sealed class EvaluationResults(IEvaluationStore store) : IEvaluationResults
{
    /// <summary>Reads the items of the latest matching run only: a set evaluated week after week has many runs, and a pilot
    /// report asks this for every criterion (reading every run's items made the report's time grow with the runs).</summary>
    public async Task<EvaluationOutcome?> LatestAsync(string workspaceId, string setId, string? appId, CancellationToken ct)
    {
        var runs = await store.RunsAsync(workspaceId, setId, EvaluationRunStatuses.Succeeded, int.MaxValue, ct);
        var latest = Newest(runs).FirstOrDefault(r => appId is null || r.AppId == appId);
        return latest is null ? null : await OutcomeAsync(latest, ct);
    }

    public async Task<IReadOnlyList<EvaluationOutcome>> OfSetAsync(string workspaceId, string setId, CancellationToken ct)
    {
        var runs = await store.RunsAsync(workspaceId, setId, EvaluationRunStatuses.Succeeded, int.MaxValue, ct);
        var outcomes = new List<EvaluationOutcome>();
        foreach (var run in Newest(runs))
        {
            outcomes.Add(await OutcomeAsync(run, ct));
        }
        return outcomes;
    }

    public async Task<(Bakeoff.Table Table, IReadOnlyList<string> Missing)> BakeoffAsync(string workspaceId, IReadOnlyList<string> runIds,
        IReadOnlyDictionary<string, double> weights, CancellationToken ct)
    {
        var rows = new List<(EvaluationRun, IReadOnlyList<EvaluationItemResult>)>();
        var missing = new List<string>();
        foreach (var id in runIds)
        {
            if (await store.FindRunAsync(id, ct) is { } run && run.WorkspaceId == workspaceId)
            {
                rows.Add((run, await store.ItemsAsync(run.Id, ct)));
            }
            else
            {
                missing.Add(id);
            }
        }
        return (Bakeoff.Rank(rows, new Dictionary<string, double>(weights, StringComparer.Ordinal)), missing);
    }

    public async Task<bool> SetExistsAsync(string workspaceId, string setId, CancellationToken ct) =>
        await store.FindSetAsync(setId, ct) is { } set && set.WorkspaceId == workspaceId;

    private static IEnumerable<EvaluationRun> Newest(IEnumerable<EvaluationRun> runs) =>
        runs.OrderByDescending(r => r.EndedAt ?? r.UpdatedAt).ThenByDescending(r => r.Id, StringComparer.Ordinal);

    private async Task<EvaluationOutcome> OutcomeAsync(EvaluationRun run, CancellationToken ct)
    {
        var items = await store.ItemsAsync(run.Id, ct);
        return new EvaluationOutcome(run.Id, run.SetId, run.SetVersion, run.AppId, run.Target.Model, run.Target.KnowledgeBase, run.Status,
            run.EndedAt ?? run.UpdatedAt, RunScoring.Overall(items), items.Sum(i => i.Cost + i.JudgeCost), items.Select(i => i.Currency).FirstOrDefault(c => c is not null),
            items.Count);
    }
}
