using System.Threading.Channels;

namespace Mulan.Gateway.Metering;

/// <summary>
/// Appends usage records with group commit: concurrent requests share one transaction (one fsync), and each
/// caller's task completes only once its record is durable. The gateway awaits it before the last byte of a
/// response, so a response that completed always has its record, even across <c>kill -9</c>.
/// </summary>
public sealed partial class UsageLedger(IUsageStore store, IEnumerable<IUsageObserver> observers, ILogger<UsageLedger> logger) : IHostedService
{
    private const int MaxBatch = 512;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IUsageObserver[] _observers = [.. observers];
    private Task? _writer;

    public Task RecordAsync(UsageRecord record)
    {
        // Budgets settle here: the one place every request's record passes, once.
        foreach (var observer in _observers)
        {
            observer.Observe(record);
        }
        var pending = new Pending(record, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            return Task.FromException(new InvalidOperationException("The usage ledger is shut down."));
        }
        return pending.Done.Task;
    }

    /// <summary>Records, or logs that the record is lost (the caller then fails closed instead of serving).</summary>
    public async Task<bool> TryRecordAsync(UsageRecord record)
    {
        try
        {
            await RecordAsync(record);
            return true;
        }
        catch (LedgerUnavailableException e)
        {
            LogRecordLost(logger, record.RequestId, e);
            return false;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _writer = Task.Run(WriteLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Drain what is queued: requests already answered must keep their records. Not cut short when the host's
        // drain time has passed (the streams it closed then are recorded just before): a record is money, and the
        // queue is written in a few milliseconds unless storage is down, which the writer's retries bound.
        _queue.Writer.TryComplete();
        if (_writer is not null)
        {
            await _writer.WaitAsync(DrainLimit, CancellationToken.None);
        }
    }

    /// <summary>The longest the stop waits for the queue: past three failed attempts of a batch the writer gives up anyway.</summary>
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(30);

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        var records = new List<UsageRecord>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var p))
            {
                batch.Add(p);
                records.Add(p.Record);
            }
            Exception? failure = null;
            for (var attempt = 0; attempt < 3; attempt++)
            {
                try
                {
                    await store.AppendAsync(records, CancellationToken.None);
                    failure = null;
                    break;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    failure = e;
                    LogAppendFailed(logger, records.Count, attempt + 1, e);
                    await Task.Delay(100 * (attempt + 1));
                }
            }
            foreach (var p in batch)
            {
                if (failure is null)
                {
                    p.Done.TrySetResult();
                }
                else
                {
                    p.Done.TrySetException(new LedgerUnavailableException(failure));
                }
            }
            batch.Clear();
            records.Clear();
        }
    }

    private sealed record Pending(UsageRecord Record, TaskCompletionSource Done);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not write {Count} usage records (attempt {Attempt})")]
    private static partial void LogAppendFailed(ILogger logger, int count, int attempt, Exception e);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Request {RequestId}: its usage record could not be written")]
    private static partial void LogRecordLost(ILogger logger, string requestId, Exception e);
}

/// <summary>The ledger could not record a request: the gateway fails closed rather than serve unmetered.</summary>
public sealed class LedgerUnavailableException(Exception inner) : Exception("The usage ledger is unavailable.", inner);
