using Mulan.Gateway.Metering;

namespace Mulan.Telemetry;

/// <summary>
/// One log message per gateway request, written from its usage record (so exactly once, whatever way the request
/// ended). Its fields are the record's ids and figures: the key's id, never its secret; nothing of the prompt or the
/// answer, nor the error text (a vendor's error message may quote the request; the ledger keeps it). With <c>Telemetry:LogFormat=Json</c> each is one JSON line whose <c>State</c> holds the fields by name.
/// </summary>
public sealed partial class RequestLog(ILoggerFactory loggers) : IUsageObserver
{
    public const string Category = "Mulan.Requests";
    private readonly ILogger _logger = loggers.CreateLogger(Category);

    public void Observe(UsageRecord record)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }
        LogRequest(_logger, record.RequestId, record.KeyId, record.WorkspaceId, record.Endpoint, record.Model, record.Provider, record.VendorModel,
            UsageNames.Of(record.Status), record.HttpStatus, record.InputTokens, record.OutputTokens, record.Cost, record.Currency?.ToString(),
            Math.Round(record.LatencyMs, 3), record.TimeToFirstTokenMs is { } t ? Math.Round(t, 3) : null, record.Streamed, record.Attempts,
            record.AppId, record.ParentRequestId, record.RunId);
    }

    [LoggerMessage(EventId = 1, EventName = "Request", Level = LogLevel.Information,
        Message = "{RequestId} {Endpoint} {Model} via {Provider}/{VendorModel} {Status} {HttpStatus} in={InputTokens} out={OutputTokens} " +
            "cost={Cost} {Currency} {LatencyMs} ms first={TimeToFirstTokenMs} ms stream={Streamed} attempts={Attempts} key={KeyId} workspace={WorkspaceId} " +
            "app={AppId} parent={ParentRequestId} run={RunId}")]
    private static partial void LogRequest(ILogger logger, string requestId, string keyId, string workspaceId, string endpoint, string model,
        string? provider, string? vendorModel, string status, int httpStatus, long inputTokens, long outputTokens, decimal cost, string? currency,
        double latencyMs, double? timeToFirstTokenMs, bool streamed, int attempts, string? appId, string? parentRequestId, string? runId);
}
