namespace Mulan.Evaluations;

/// <summary><see cref="IEvaluationResults"/> over the evaluation store: succeeded runs with their overall metrics.</summary>
public sealed class EvaluationResults(IEvaluationStore store) : IEvaluationResults
{
    public async Task<EvaluationOutcome?> LatestAsync(string workspaceId, string setId, string? appId, CancellationToken ct) =>
        (await OfSetAsync(workspaceId, setId, ct)).FirstOrDefault(o => appId is null || o.AppId == appId);

    public async Task<IReadOnlyList<EvaluationOutcome>> OfSetAsync(string workspaceId, string setId, CancellationToken ct)
    {
        var runs = await store.RunsAsync(workspaceId, setId, EvaluationRunStatuses.Succeeded, int.MaxValue, ct);
        var outcomes = new List<EvaluationOutcome>();
        foreach (var run in runs.OrderByDescending(r => r.EndedAt ?? r.UpdatedAt).ThenByDescending(r => r.Id, StringComparer.Ordinal))
        {
            var items = await store.ItemsAsync(run.Id, ct);
            outcomes.Add(new EvaluationOutcome(run.Id, run.SetId, run.SetVersion, run.AppId, run.Target.Model, run.Target.KnowledgeBase, run.Status,
                run.EndedAt ?? run.UpdatedAt, RunScoring.Overall(items), items.Sum(i => i.Cost + i.JudgeCost), items.Select(i => i.Currency).FirstOrDefault(c => c is not null),
                items.Count));
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
}
