namespace Mulan.Audit;

/// <summary>Storage seam for the audit log: append-only, read newest first.</summary>
public interface IAuditStore
{
    Task AppendAsync(AuditEntry entry, DateTimeOffset at, CancellationToken ct);

    Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken ct);
}
