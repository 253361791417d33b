namespace Mulan.Apps.Compliance;

/// <summary>A workspace's extra compliance rules, as stored.</summary>
public sealed record WorkspaceComplianceRules(string WorkspaceId, IReadOnlyList<ComplianceRule> Rules, DateTimeOffset UpdatedAt);

/// <summary>Storage seam for each workspace's extra rules (the built-in ones ship with Mulan).</summary>
public interface IComplianceStore
{
    /// <returns>null when the workspace has never had extra rules.</returns>
    Task<WorkspaceComplianceRules?> GetAsync(string workspaceId, CancellationToken ct);

    /// <summary>Replaces the workspace's extra rules with these, all at once.</summary>
    Task SaveAsync(WorkspaceComplianceRules rules, CancellationToken ct);

    /// <summary>Removes the workspace's extra rules (the workspace is being deleted).</summary>
    Task DeleteAsync(string workspaceId, CancellationToken ct);
}
