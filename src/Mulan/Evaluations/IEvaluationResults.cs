namespace Mulan.Evaluations;

/// <summary>The metrics an evaluation run reports, by their public names, and which way each is better.</summary>
public static class EvaluationMetrics
{
    public const string FactRecall = "factRecall";
    public const string SourceHit = "sourceHit";
    public const string RefusalPrecision = "refusalPrecision";
    public const string RefusalRecall = "refusalRecall";
    public const string AnswerLength = "answerLength";
    public const string LatencyP50Ms = "latencyP50Ms";
    public const string LatencyP95Ms = "latencyP95Ms";
    public const string Cost = "cost";
    public const string Faithfulness = "faithfulness";
    public const string Relevance = "relevance";

    public static readonly IReadOnlyList<string> All =
        [FactRecall, SourceHit, RefusalPrecision, RefusalRecall, AnswerLength, LatencyP50Ms, LatencyP95Ms, Cost, Faithfulness, Relevance];

    /// <summary>Latency and cost are better lower: a threshold on them is a maximum; on the others a minimum.</summary>
    public static bool LowerIsBetter(string metric) => metric is LatencyP50Ms or LatencyP95Ms or Cost;

    public static bool IsKnown(string metric) => All.Contains(metric, StringComparer.Ordinal);
}

/// <summary>One finished evaluation run as other features (pilot acceptance, reports) read it.</summary>
/// <param name="Metrics">overall metrics by <see cref="EvaluationMetrics"/> name; null when not measurable (e.g. no refusal items).</param>
/// <param name="AppId">the app the run targeted, when it targeted an app.</param>
public sealed record EvaluationOutcome(string RunId, string SetId, int SetVersion, string? AppId, string? Model, string? KnowledgeBaseId, string Status,
    DateTimeOffset EndedAt, IReadOnlyDictionary<string, double?> Metrics, decimal CostAmount, string? Currency, int Items);

/// <summary>Read access to finished evaluation runs for the features that judge by them.</summary>
public interface IEvaluationResults
{
    /// <summary>The latest succeeded run of the set in the workspace, narrowed to runs that targeted the app when one is named.</summary>
    Task<EvaluationOutcome?> LatestAsync(string workspaceId, string setId, string? appId, CancellationToken ct);

    /// <summary>Every succeeded run of the set in the workspace, newest first.</summary>
    Task<IReadOnlyList<EvaluationOutcome>> OfSetAsync(string workspaceId, string setId, CancellationToken ct);

    /// <summary>The runs side by side, ranked by the weights (<see cref="Bakeoff.Rank"/>); the ids of runs not in the workspace
    /// (deleted, or never there) are left out and returned apart.</summary>
    Task<(Bakeoff.Table Table, IReadOnlyList<string> Missing)> BakeoffAsync(string workspaceId, IReadOnlyList<string> runIds,
        IReadOnlyDictionary<string, double> weights, CancellationToken ct);

    /// <summary>Whether the set exists in the workspace (criteria may only name sets that do).</summary>
    Task<bool> SetExistsAsync(string workspaceId, string setId, CancellationToken ct);
}
