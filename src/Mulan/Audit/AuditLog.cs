namespace Mulan.Audit;

/// <summary>Records administrative changes. Handlers call it once, after their change has been stored.</summary>
public sealed partial class AuditLog(IAuditStore store, TimeProvider time, ILogger<AuditLog> logger)
{
    public async Task RecordAsync(AuditEntry entry)
    {
        try
        {
            // Not the request's token: the change is already made, and its record must not be lost because the client left.
            await store.AppendAsync(entry, time.GetUtcNow(), CancellationToken.None);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            // The change stands but has no record: the server log keeps what the audit log could not.
            LogNotRecorded(logger, e, entry.Action, entry.TargetType, entry.TargetId, entry.Actor);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit entry not recorded: {Action} {TargetType} '{TargetId}' by {Actor}")]
    private static partial void LogNotRecorded(ILogger logger, Exception exception, string action, string targetType, string targetId, string actor);
}
