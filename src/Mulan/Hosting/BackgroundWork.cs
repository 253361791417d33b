using System.Collections.Concurrent;

namespace Mulan.Hosting;

/// <summary>
/// The fire-and-forget tasks one feature starts (assistant runs, evaluation runs), kept so that shutdown can wait for
/// them: they use stores and the local encoder, which must outlive them. A finished task drops out by itself.
/// </summary>
public sealed class BackgroundWork
{
    private readonly ConcurrentDictionary<Task, byte> _tasks = new();

    public void Track(Task task)
    {
        _tasks.TryAdd(task, 0);
        task.ContinueWith(t => _tasks.TryRemove(t, out _), TaskScheduler.Default);
    }

    /// <summary>Completes when every task tracked so far has ended.</summary>
    public Task IdleAsync() => Task.WhenAll(_tasks.Keys);

    /// <summary>Waits for the tasks until <paramref name="ct"/> (the host's shutdown timeout) fires; false when some were still going.</summary>
    public async Task<bool> WaitIdleAsync(CancellationToken ct)
    {
        try
        {
            await IdleAsync().WaitAsync(ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
