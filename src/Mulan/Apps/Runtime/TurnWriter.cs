using System.Threading.Channels;

namespace Mulan.Apps.Runtime;

/// <summary>
/// Stores answered turns with group commit: an app request waits until its turn is durable (it is stored before the
/// client sees the answer), but the turns of concurrent requests share one transaction and one fsync, as the usage
/// ledger's records do. Measured: one transaction per request held app requests to about 220 per second on this
/// machine, waiting on fsync and on SQLite's write lock (docs/benchmarks.md).
/// </summary>
public sealed class TurnWriter(IAppStore store) : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private readonly Channel<(ConversationTurn Turn, TaskCompletionSource Done)> _queue =
        Channel.CreateUnbounded<(ConversationTurn, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    private Task? _running;

    /// <summary>Completes when the turn is durable; throws what storage threw for it.</summary>
    public Task SaveAsync(ConversationTurn turn)
    {
        _running ??= StartLoop();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _queue.Writer.TryWrite((turn, done)) ? done.Task : Task.FromException(new InvalidOperationException("The app turn writer is shut down."));
    }

    private readonly object _gate = new();

    private Task StartLoop()
    {
        lock (_gate)
        {
            return _running ??= Task.Run(WriteLoopAsync);
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<(ConversationTurn Turn, TaskCompletionSource Done)>(MaxBatch);
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var item))
            {
                batch.Add(item);
            }
            try
            {
                var failures = await store.SaveTurnsAsync([.. batch.Select(b => b.Turn)], CancellationToken.None);
                for (var i = 0; i < batch.Count; i++)
                {
                    if (failures[i] is { } failure)
                    {
                        batch[i].Done.TrySetException(failure);
                    }
                    else
                    {
                        batch[i].Done.TrySetResult();
                    }
                }
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException)
            {
                foreach (var (_, done) in batch)
                {
                    done.TrySetException(e);
                }
            }
            batch.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_running is { } running)
        {
            await running;
        }
    }
}
