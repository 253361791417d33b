using System.Text.Json;
using Dapper;
using Mulan.Assistant.Tools;

namespace Mulan.Storage;

/// <summary>One row per tool source: how to reach it and its tools as JSON, its credential encrypted (never in clear).</summary>
/// <remarks>The same SQL on SQLite and PostgreSQL: one store over either database.</remarks>
public sealed class ToolStore(IStorageDatabase db) : IToolStore
{
    private const string Columns = """
        id AS Id, workspace_id AS WorkspaceId, name AS Name, kind AS Kind, definition AS Definition, tools AS Tools, credential AS Credential,
        created_at AS CreatedAt, updated_at AS UpdatedAt
        """;

    public async Task<bool> CreateAsync(ToolSource source, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync(
            """
            INSERT INTO tool_sources (id, workspace_id, name, kind, definition, tools, credential, created_at, updated_at)
            VALUES (@Id, @WorkspaceId, @Name, @Kind, @Definition, @Tools, @Credential, @CreatedAt, @UpdatedAt) ON CONFLICT DO NOTHING
            """,
            new
            {
                source.Id, source.WorkspaceId, source.Name, Kind = ToolSource.KindName(source.Kind),
                Definition = JsonSerializer.Serialize(source.Definition, ToolJson.Options),
                Tools = JsonSerializer.Serialize(source.Tools, ToolJson.Options),
                Credential = source.ProtectedCredential,
                CreatedAt = source.CreatedAt.ToUnixTimeMilliseconds(),
                UpdatedAt = source.UpdatedAt.ToUnixTimeMilliseconds(),
            }) == 1;
    }

    public async Task<IReadOnlyList<ToolSource>> ListAsync(string? workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<Row>(
            $"SELECT {Columns} FROM tool_sources WHERE (@workspaceId IS NULL OR workspace_id = @workspaceId) ORDER BY name, id", new { workspaceId });
        return [.. rows.Select(r => r.ToModel())];
    }

    public async Task<ToolSource?> FindAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM tool_sources WHERE id = @id", new { id }))?.ToModel();
    }

    public async Task<ToolSource?> FindByNameAsync(string workspaceId, string name, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM tool_sources WHERE workspace_id = @workspaceId AND name = @name",
            new { workspaceId, name }))?.ToModel();
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("DELETE FROM tool_sources WHERE id = @id", new { id }) == 1;
    }

    private sealed record Row(string Id, string WorkspaceId, string Name, string Kind, string Definition, string Tools, byte[]? Credential, long CreatedAt,
        long UpdatedAt)
    {
        public ToolSource ToModel() => new(Id, WorkspaceId, Name, Kind == "openapi" ? ToolSourceKind.OpenApi : ToolSourceKind.Mcp,
            JsonSerializer.Deserialize<ToolSourceDefinition>(Definition, ToolJson.Options)!,
            JsonSerializer.Deserialize<List<StoredTool>>(Tools, ToolJson.Options)!, Credential,
            DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt));
    }
}
