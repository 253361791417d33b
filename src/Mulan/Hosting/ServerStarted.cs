namespace Mulan.Hosting;

/// <summary>Waiting for the server to listen: background work that calls this server's own gateway cannot start before.</summary>
public static class ServerStarted
{
    /// <returns>true once the application has started; false when it stops first.</returns>
    public static async Task<bool> WaitAsync(this IHostApplicationLifetime lifetime, CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        try
        {
            await started.Task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
