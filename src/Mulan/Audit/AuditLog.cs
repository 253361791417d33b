namespace Mulan.Audit;

/// <summary>Records administrative changes. Handlers call it once, after their change has been stored.</summary>
public sealed partial class AuditLog(IAuditStore store, TimeProvider time, ILogger<AuditLog> logger, IHttpContextAccessor? http = null)
{
    public async Task RecordAsync(AuditEntry entry)
    {
        // The administrator's routes record "admin": when an instance administrator user made the change, name them.
        if (entry.Actor == AuditActor.Admin && http?.HttpContext is { } ctx && Access.Caller.Find(ctx) is { Kind: Access.CallerKind.InstanceAdmin, UserId: { } user })
        {
            entry = entry with { Actor = AuditActor.User(user) };
        }
        try
        {
            // Not the request's token: the change is already made, and its record must not be lost because the client left.
            await store.AppendAsync(entry, time.GetUtcNow(), CancellationToken.None);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException)
        {
            // The change stands but has no record: the server log keeps what the audit log could not.
            LogNotRecorded(logger, e, entry.Action, entry.TargetType, entry.TargetId, entry.Actor);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit entry not recorded: {Action} {TargetType} '{TargetId}' by {Actor}")]
    private static partial void LogNotRecorded(ILogger logger, Exception exception, string action, string targetType, string targetId, string actor);
}
