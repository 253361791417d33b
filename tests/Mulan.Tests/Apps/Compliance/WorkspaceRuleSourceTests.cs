using Mulan.Apps.Compliance;

namespace Mulan.Tests.Apps.Compliance;

public sealed class WorkspaceRuleSourceTests
{
    [Fact]
    public async Task The_same_rules_come_back_as_the_same_list_and_a_change_in_the_same_millisecond_is_seen()
    {
        // The real store, on a database of its own.
        var folder = Directory.CreateTempSubdirectory("mulan-rules-").FullName;
        var db = new Mulan.Storage.SqliteDatabase(Microsoft.Extensions.Options.Options.Create(new Mulan.Storage.StorageOptions { DataDirectory = folder }));
        await db.InitializeAsync();
        var store = new Mulan.Storage.ComplianceStore(db);
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
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}
