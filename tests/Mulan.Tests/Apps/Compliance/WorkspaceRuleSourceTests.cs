using Mulan.Apps.Compliance;

namespace Mulan.Tests.Apps.Compliance;

public sealed class WorkspaceRuleSourceTests
{
    private sealed class MemoryStore : IComplianceStore
    {
        public WorkspaceComplianceRules? Stored { get; set; }

        public Task<WorkspaceComplianceRules?> GetAsync(string workspaceId, CancellationToken ct) =>
            // A fresh copy each time, as a database read gives.
            Task.FromResult(Stored is null ? null : Stored with { Rules = [.. Stored.Rules.Select(r => r with { Terms = [.. r.Terms] })] });

        public Task SaveAsync(WorkspaceComplianceRules rules, CancellationToken ct)
        {
            Stored = rules;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task The_same_rules_come_back_as_the_same_list_and_a_change_in_the_same_millisecond_is_seen()
    {
        var store = new MemoryStore();
        var source = new WorkspaceRuleSource(store);
        Assert.Empty(await source.RulesAsync("ws", default));

        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_000);
        await store.SaveAsync(new WorkspaceComplianceRules("ws", [new(["竞品甲"], "competitor", "r")], at), default);
        var first = await source.RulesAsync("ws", default);
        Assert.Same(first, await source.RulesAsync("ws", default));

        await store.SaveAsync(new WorkspaceComplianceRules("ws", [new(["竞品乙"], "competitor", "r")], at), default);
        var second = await source.RulesAsync("ws", default);
        Assert.Equal("竞品乙", Assert.Single(Assert.Single(second).Terms));
        var checker = new ComplianceChecker();
        Assert.Equal("竞品乙", Assert.Single(checker.Check("不提竞品甲，只提竞品乙", null, second)).Term);
    }
}
