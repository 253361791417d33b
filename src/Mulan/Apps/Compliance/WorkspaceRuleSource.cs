using System.Collections.Concurrent;

namespace Mulan.Apps.Compliance;

/// <summary>
/// A workspace's extra rules for checking: the same list instance until the rules change, so
/// <see cref="ComplianceChecker"/> compiles them once rather than on every check.
/// </summary>
public sealed class WorkspaceRuleSource(IComplianceStore store)
{
    private readonly ConcurrentDictionary<string, WorkspaceComplianceRules> _last = new(StringComparer.Ordinal);

    /// <summary>The rules to pass to <see cref="ComplianceChecker.Check"/> or <see cref="ComplianceChecker.TermsFor"/>; empty when the workspace has none.</summary>
    public async Task<IReadOnlyList<ComplianceRule>> RulesAsync(string workspaceId, CancellationToken ct)
    {
        var stored = await store.GetAsync(workspaceId, ct);
        if (stored is null)
        {
            return [];
        }
        // Compared by content, not by time: two changes within one millisecond must not leave the first one cached.
        var cached = _last.AddOrUpdate(workspaceId, stored, (_, old) => Same(old.Rules, stored.Rules) ? old : stored);
        return cached.Rules;
    }

    private static bool Same(IReadOnlyList<ComplianceRule> a, IReadOnlyList<ComplianceRule> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Category == p.Second.Category && p.First.Rule == p.Second.Rule
            && p.First.Suggestion == p.Second.Suggestion && p.First.Terms.SequenceEqual(p.Second.Terms)
            && (p.First.Exceptions ?? []).SequenceEqual(p.Second.Exceptions ?? []));
}
