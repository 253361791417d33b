namespace Mulan.Access;

/// <summary>
/// What a workspace holds besides its keys, which <c>DELETE /api/workspaces/{id}?force=true</c> must take along: its
/// knowledge bases (documents, chunks, vectors and in-memory indexes). The knowledge feature implements it and registers
/// it in DI; <see cref="WorkspaceLifecycleEndpoints"/> calls it before the workspace is marked deleted. Until it is
/// registered, a forced deletion of a workspace that still has knowledge bases is refused (409) and changes nothing.
/// </summary>
public interface IWorkspaceContents
{
    /// <summary>Deletes every knowledge base of the workspace, each recorded in the audit log under <paramref name="actor"/>.</summary>
    Task DeleteKnowledgeBasesAsync(string workspaceId, string actor, CancellationToken ct);
}
