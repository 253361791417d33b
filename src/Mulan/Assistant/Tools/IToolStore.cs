namespace Mulan.Assistant.Tools;

/// <summary>Storage seam for tool sources.</summary>
public interface IToolStore
{
    /// <returns>false when the workspace has a tool source with that name.</returns>
    Task<bool> CreateAsync(ToolSource source, CancellationToken ct);

    /// <param name="workspaceId">null: every workspace.</param>
    Task<IReadOnlyList<ToolSource>> ListAsync(string? workspaceId, CancellationToken ct);

    Task<ToolSource?> FindAsync(string id, CancellationToken ct);

    Task<ToolSource?> FindByNameAsync(string workspaceId, string name, CancellationToken ct);

    Task<bool> DeleteAsync(string id, CancellationToken ct);
}
