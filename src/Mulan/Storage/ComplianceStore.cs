using System.Text.Json;
using Dapper;
using Mulan.Apps.Compliance;

namespace Mulan.Storage;

/// <summary>One row per workspace, its rules as one JSON array: they are always read and replaced whole.</summary>
/// <remarks>The same SQL on SQLite and PostgreSQL: one store over either database.</remarks>
public sealed class ComplianceStore(IStorageDatabase db) : IComplianceStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public async Task<WorkspaceComplianceRules?> GetAsync(string workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<Row>(
            "SELECT workspace_id AS WorkspaceId, rules AS Rules, updated_at AS UpdatedAt FROM compliance_rules WHERE workspace_id = @workspaceId",
            new { workspaceId });
        return row is null ? null : new WorkspaceComplianceRules(row.WorkspaceId,
            JsonSerializer.Deserialize<List<ComplianceRule>>(row.Rules, Json) ?? [], DateTimeOffset.FromUnixTimeMilliseconds(row.UpdatedAt));
    }

    public async Task DeleteAsync(string workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync("DELETE FROM compliance_rules WHERE workspace_id = @workspaceId", new { workspaceId });
    }

    public async Task SaveAsync(WorkspaceComplianceRules rules, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO compliance_rules (workspace_id, rules, updated_at) VALUES (@WorkspaceId, @Rules, @At)
            ON CONFLICT (workspace_id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at
            """,
            new { rules.WorkspaceId, Rules = JsonSerializer.Serialize(rules.Rules, Json), At = rules.UpdatedAt.ToUnixTimeMilliseconds() });
    }

    private sealed record Row(string WorkspaceId, string Rules, long UpdatedAt);
}
