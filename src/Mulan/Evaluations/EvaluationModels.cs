namespace Mulan.Evaluations;

public static class ExpectedFactsModes
{
    public const string All = "all";
    public const string Any = "any";
}

public static class EvaluationRunStatuses
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>One question of an evaluation set and what a good answer to it holds.</summary>
/// <param name="ExpectedFactsMode">all (every fact must be in the answer) or any (one is enough).</param>
/// <param name="ShouldRefuse">the right answer is to decline (the sources do not hold one).</param>
public sealed record EvaluationItem(string Question, IReadOnlyList<string>? ExpectedFacts = null, string ExpectedFactsMode = ExpectedFactsModes.All,
    IReadOnlyList<string>? ExpectedSources = null, bool ShouldRefuse = false, IReadOnlyList<string>? Tags = null, string? ReferenceAnswer = null);

public sealed record EvaluationSet(string Id, string WorkspaceId, string Name, int LatestVersion, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record EvaluationSetVersion(string SetId, int Version, IReadOnlyList<EvaluationItem> Items, DateTimeOffset CreatedAt);

/// <summary>What a run asks: an app (by id), a model route, or a knowledge base (its extractive ask).</summary>
public sealed record EvaluationTarget(string? App = null, string? Model = null, string? KnowledgeBase = null);

/// <param name="MaxCost">the run stops (failed) before a call would take its cost past this, in the currency of its calls.</param>
public sealed record EvaluationRun(string Id, string WorkspaceId, string SetId, int SetVersion, EvaluationTarget Target, string? AppId, string? Judge,
    int Concurrency, decimal? MaxCost, string Status, string? Reason, int ItemCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? EndedAt);

/// <summary>One item's outcome in a run, stored as soon as the item finishes.</summary>
/// <param name="Error">why the target gave no answer (the item then counts in no quality metric).</param>
/// <param name="JudgeError">why the judge gave no scores (the answer's own metrics still count).</param>
/// <param name="Cost">what the target calls cost (the judge's is <paramref name="JudgeCost"/>).</param>
public sealed record EvaluationItemResult(int Index, string Question, string Answer, bool Refused, bool ShouldRefuse, double? FactRecall, double? SourceHit,
    IReadOnlyList<string> Citations, int AnswerLength, double LatencyMs, long PromptTokens, long CompletionTokens, decimal Cost, decimal JudgeCost,
    string? Currency, double? Faithfulness, double? Relevance, string? Error, IReadOnlyList<string>? Tags, string? JudgeError = null);

/// <summary>Storage seam for evaluation sets, runs and their item results.</summary>
public interface IEvaluationStore
{
    Task CreateSetAsync(EvaluationSet set, EvaluationSetVersion version, CancellationToken ct);

    /// <summary>Adds the next version; false when the set is gone or another version was added first.</summary>
    Task<bool> AddVersionAsync(string setId, EvaluationSetVersion version, DateTimeOffset at, CancellationToken ct);

    Task<EvaluationSet?> FindSetAsync(string id, CancellationToken ct);

    Task<IReadOnlyList<EvaluationSet>> SetsAsync(string? workspaceId, CancellationToken ct);

    Task<EvaluationSetVersion?> VersionAsync(string setId, int version, CancellationToken ct);

    Task<bool> DeleteSetAsync(string id, CancellationToken ct);

    Task CreateRunAsync(EvaluationRun run, CancellationToken ct);

    Task<EvaluationRun?> FindRunAsync(string id, CancellationToken ct);

    Task<IReadOnlyList<EvaluationRun>> RunsAsync(string? workspaceId, string? setId, string? status, int limit, CancellationToken ct);

    /// <summary>Ends a run still running; false when it had already ended.</summary>
    Task<bool> EndRunAsync(string id, string status, string? reason, DateTimeOffset at, CancellationToken ct);

    /// <summary>Stores an item's result (once: a second result for the same item is ignored), whatever the run's status: its calls were made and charged.</summary>
    Task<bool> SaveItemAsync(string runId, EvaluationItemResult result, DateTimeOffset at, CancellationToken ct);

    Task<IReadOnlyList<EvaluationItemResult>> ItemsAsync(string runId, CancellationToken ct);
}
