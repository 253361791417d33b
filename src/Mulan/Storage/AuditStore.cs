using System.Text.Json.Nodes;
using Dapper;
using Mulan.Audit;

namespace Mulan.Storage;

/// <remarks>The same SQL on SQLite and PostgreSQL: one store over either database.</remarks>
public sealed class AuditStore(IStorageDatabase db) : IAuditStore
{
    private const string Filter = """
        WHERE (@WorkspaceId IS NULL OR workspace_id = @WorkspaceId) AND (@Action IS NULL OR action = @Action)
          AND (@From IS NULL OR at >= @From) AND (@To IS NULL OR at < @To)
        """;

    public async Task AppendAsync(AuditEntry entry, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(
            """
            INSERT INTO audit_log (at, actor, action, target_type, target_id, workspace_id, details)
            VALUES (@At, @Actor, @Action, @TargetType, @TargetId, @WorkspaceId, @Details)
            """,
            new
            {
                At = at.ToUnixTimeMilliseconds(), entry.Actor, entry.Action, entry.TargetType, entry.TargetId, entry.WorkspaceId,
                Details = entry.Details?.ToJsonString(),
            });
    }

    public async Task<AuditPage> QueryAsync(AuditQuery q, CancellationToken ct)
    {
        var args = new
        {
            q.WorkspaceId, q.Action, From = q.From?.ToUnixTimeMilliseconds(), To = q.To?.ToUnixTimeMilliseconds(),
            Limit = q.PageSize, Offset = (long)(q.Page - 1) * q.PageSize,
        };
        await using var c = await db.OpenConnectionAsync(ct);
        var count = await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM audit_log {Filter}", args);
        var rows = await c.QueryAsync<Row>(
            $"""
            SELECT id AS Id, at AS At, actor AS Actor, action AS Action, target_type AS TargetType, target_id AS TargetId,
              workspace_id AS WorkspaceId, details AS Details
            FROM audit_log {Filter} ORDER BY at DESC, id DESC LIMIT @Limit OFFSET @Offset
            """, args);
        return new AuditPage(count, [.. rows.Select(r => r.ToModel())]);
    }

    private sealed class Row
    {
        public long Id { get; init; }
        public long At { get; init; }
        public string Actor { get; init; } = "";
        public string Action { get; init; } = "";
        public string TargetType { get; init; } = "";
        public string TargetId { get; init; } = "";
        public string? WorkspaceId { get; init; }
        public string? Details { get; init; }

        public AuditRecord ToModel() => new(Id, DateTimeOffset.FromUnixTimeMilliseconds(At), Actor, Action, TargetType, TargetId, WorkspaceId,
            Details is null ? null : JsonNode.Parse(Details)?.AsObject());
    }
}
