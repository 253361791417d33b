namespace Mulan.Assistant.Runs;

/// <param name="Status">null = any status.</param>
public sealed record RunQuery(string? WorkspaceId, string? AppId, string? Status, int Limit);

/// <summary>Runs, their state and their step trace.</summary>
public interface IRunStore
{
    Task CreateAsync(Run run, RunState state, CancellationToken ct);

    /// <summary>Saves the run, its state and new steps in one transaction. With <paramref name="expectedStatus"/>, only
    /// when the stored status is still that one (two approvals of one call, a cancel racing a step): false otherwise.</summary>
    Task<bool> SaveAsync(Run run, RunState state, IReadOnlyList<RunStep> newSteps, string? expectedStatus, CancellationToken ct);

    Task<Run?> FindAsync(string id, CancellationToken ct);

    /// <param name="conversation">false: without the messages (what reading a pending approval needs); such a state must
    /// not be saved with new messages.</param>
    Task<RunState?> StateAsync(string id, CancellationToken ct, bool conversation = true);

    Task<IReadOnlyList<RunStep>> StepsAsync(string id, CancellationToken ct);

    Task<IReadOnlyList<Run>> ListAsync(RunQuery query, CancellationToken ct);

    /// <summary>Runs in <paramref name="status"/> across workspaces (start-up recovery, the approval sweep).</summary>
    Task<IReadOnlyList<Run>> InStatusAsync(string status, CancellationToken ct);

    /// <summary>True when a run of this schedule has not ended (no overlapping scheduled runs).</summary>
    Task<bool> ScheduleBusyAsync(string appId, string schedule, CancellationToken ct);

    /// <summary>When the schedule last fired, or null when never.</summary>
    Task<DateTimeOffset?> LastFiredAsync(string appId, string schedule, CancellationToken ct);

    Task SetLastFiredAsync(string appId, string schedule, DateTimeOffset at, CancellationToken ct);
}
