using Mulan.Access;
using Mulan.Audit;

namespace Mulan.Knowledge.Lifecycle;

/// <summary>What a forced workspace deletion takes along from the knowledge feature: every knowledge base of the
/// workspace, with its documents, chunks, vectors, index entries and files, each deletion in the audit log.</summary>
public sealed class WorkspaceKnowledge(IKnowledgeStore store, KnowledgeLifecycle lifecycle, AuditLog audit) : IWorkspaceContents
{
    public async Task DeleteKnowledgeBasesAsync(string workspaceId, string actor, CancellationToken ct)
    {
        foreach (var kb in await store.ListKnowledgeBasesAsync(workspaceId, ct))
        {
            // The workspace goes as a whole: what references one of its knowledge bases goes with it.
            var deletion = await lifecycle.DeleteKnowledgeBaseAsync(kb, force: true, ct);
            if (deletion.Deleted)
            {
                await audit.RecordAsync(AuditEntries.KnowledgeBaseDeleted(actor, kb, deletion.Documents, force: true));
            }
        }
    }
}
